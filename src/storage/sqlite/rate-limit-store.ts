/**
 * RateLimitStore on SQLite: one row per key holding the current fixed window. `hit` is a single
 * UPSERT … RETURNING, so the increment and the read are one atomic step even across processes.
 */
import type { Database } from 'better-sqlite3';
import { windowEndsAt, windowStart } from '../rate-window.ts';
import type { RateLimitStore } from '../types.ts';

export function createSqliteRateLimitStore(db: Database, now: () => number): RateLimitStore {
  const hit = db.prepare(`
    INSERT INTO rate_limits (key, window_start, count, expires_at)
    VALUES (@key, @start, 1, @end)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END,
      window_start = excluded.window_start,
      expires_at = excluded.expires_at
    RETURNING count`);
  const peek = db.prepare('SELECT count FROM rate_limits WHERE key = @key AND window_start = @start');
  const reset = db.prepare('DELETE FROM rate_limits WHERE key = ?');

  return {
    async hit(key, windowSeconds) {
      const t = now();
      const row = hit.get({
        key,
        start: windowStart(windowSeconds, t),
        end: windowEndsAt(windowSeconds, t),
      }) as {
        count: number;
      };
      return row.count;
    },
    async peek(key, windowSeconds) {
      const row = peek.get({ key, start: windowStart(windowSeconds, now()) }) as
        | { count: number }
        | undefined;
      return row?.count ?? 0;
    },
    async reset(key) {
      reset.run(key);
    },
  };
}
