/**
 * Noticing writes that no invalidation event announces: another process on the same SQLite file (the
 * `sekisho` CLI run without Redis, a second server) commits, and this process's caches would not know.
 * SQLite's `PRAGMA data_version` changes exactly then (not on this connection's own writes, which the
 * in-process bus already announces), and reading it is a few microseconds without touching a table —
 * so it is polled on a timer, never per request. A write is noticed within one interval.
 */
import type { Storage } from '../storage/types.ts';

/** How often the data version is read: the bound on noticing another process's write. */
export const FOREIGN_WRITE_POLL_MS = 250;

/**
 * Calls `onChange` after any poll that sees another connection's commit. Returns the stop function, or
 * undefined when the backend cannot tell (no `dataVersion`: PostgreSQL).
 */
export function watchForeignWrites(
  storage: Pick<Storage, 'dataVersion'>,
  onChange: () => void,
  intervalMs = FOREIGN_WRITE_POLL_MS,
): (() => void) | undefined {
  const read = storage.dataVersion;
  if (read === undefined) return undefined;
  let seen = read.call(storage);
  const timer = setInterval(() => {
    let now: number;
    try {
      now = read.call(storage);
    } catch {
      return; // closing: the next start reads afresh
    }
    if (now === seen) return;
    seen = now;
    onChange();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
