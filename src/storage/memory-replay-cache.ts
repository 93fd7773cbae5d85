/**
 * ReplayCache for one process (no Redis): a map of key → expiry. Bounded; when full of live entries
 * it fails closed (answers "seen before") instead of evicting one, since forgetting a live value is
 * exactly what would let a replay through.
 */
import type { ReplayCache } from './types.ts';

export function createMemoryReplayCache(
  opts: { readonly maxEntries?: number; readonly now?: () => number } = {},
): ReplayCache {
  const maxEntries = opts.maxEntries ?? 100_000;
  const now = opts.now ?? Date.now;
  const seen = new Map<string, number>();
  const dropExpired = (t: number) => {
    for (const [key, expiresAt] of seen) if (expiresAt <= t) seen.delete(key);
  };
  return {
    async remember(key, ttlSeconds) {
      const t = now();
      const expiresAt = seen.get(key);
      if (expiresAt !== undefined && expiresAt > t) return false;
      if (seen.size >= maxEntries) dropExpired(t);
      if (seen.size >= maxEntries) return false;
      seen.set(key, t + Math.max(1, Math.ceil(ttlSeconds * 1000)));
      return true;
    },
  };
}
