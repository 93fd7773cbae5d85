/**
 * Records when a grant or client was last used (account page "last used", idle-client expiry) at
 * most once a minute per row. Every token issued would otherwise cost two extra write statements —
 * a quarter of a refresh grant's CPU on SQLite (docs/benchmarks.md) — for a timestamp nobody reads
 * at sub-minute precision. Per process and bounded; a missed touch only makes "last used" up to a
 * minute older, far inside any idle-expiry window.
 */
import type { Storage } from '../storage/types.ts';

export interface UseRecorder {
  /** Touches the row unless this process did so within the interval. */
  record(model: 'Grant' | 'Client', id: string, expiresInSeconds?: number): Promise<void>;
}

export function createUseRecorder(opts: {
  readonly storage: Pick<Storage, 'touch'>;
  readonly intervalMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}): UseRecorder {
  const intervalMs = opts.intervalMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const lastTouched = new Map<string, number>();
  return {
    async record(model, id, expiresInSeconds) {
      const key = `${model}\u0000${id}`;
      const t = now();
      const previous = lastTouched.get(key);
      if (previous !== undefined && t - previous < intervalMs) return;
      if (lastTouched.size >= maxEntries) lastTouched.clear();
      lastTouched.set(key, t);
      await opts.storage.touch(model, id, expiresInSeconds);
    },
  };
}
