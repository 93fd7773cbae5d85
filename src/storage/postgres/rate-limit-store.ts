/**
 * RateLimitStore on PostgreSQL: one row per key holding its current fixed window. `hit` is a single
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING`, which PostgreSQL makes an atomic insert-or-update even
 * when many instances hit the same new key at once, so every caller gets a distinct count.
 */
import { windowEndsAt, windowStart } from '../rate-window.ts';
import type { RateLimitStore } from '../types.ts';
import { type PgPool, query } from './pool.ts';

// A caller whose clock is a hair behind (another instance) counts into the newer window instead of
// resetting it: windows only move forward.
const HIT = `
  INSERT INTO rate_limits AS r (key, window_start, count, expires_at) VALUES ($1, $2, 1, $3)
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN r.window_start >= excluded.window_start THEN r.count + 1 ELSE 1 END,
    window_start = GREATEST(r.window_start, excluded.window_start),
    expires_at = GREATEST(r.expires_at, excluded.expires_at)
  RETURNING count`;

export function createPostgresRateLimitStore(pool: PgPool, now: () => number): RateLimitStore {
  return {
    async hit(key, windowSeconds) {
      const t = now();
      const values = [key, windowStart(windowSeconds, t), windowEndsAt(windowSeconds, t)];
      const result = await query<{ count: number }>(pool, HIT, values, 'sekisho_limits_hit');
      return result.rows[0]!.count;
    },
    async peek(key, windowSeconds) {
      const result = await query<{ count: number }>(
        pool,
        'SELECT count FROM rate_limits WHERE key = $1 AND window_start = $2',
        [key, windowStart(windowSeconds, now())],
        'sekisho_limits_peek',
      );
      return result.rows[0]?.count ?? 0;
    },
    async reset(key) {
      await query(pool, 'DELETE FROM rate_limits WHERE key = $1', [key], 'sekisho_limits_reset');
    },
  };
}
