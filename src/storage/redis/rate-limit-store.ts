/**
 * RateLimitStore on Redis: the same fixed windows as SQLite (aligned to multiples of their length since
 * the epoch, `rate-window.ts`), one hash per key holding `w` (window start, ms) and `c` (count).
 *
 * `hit` is one Lua script, so increment-and-read is a single step across every instance. A stored
 * window *newer* than the caller's (an instance whose clock runs a little behind) counts as the same
 * window rather than resetting it: clock skew may stretch a window, never reopen one (no fail-open).
 * Each hash expires when its window ends (PEXPIRE from the caller's clock), so Redis sweeps itself.
 */
import type { Redis } from 'ioredis';
import { windowEndsAt, windowStart } from '../rate-window.ts';
import type { RateLimitStore } from '../types.ts';
import { redisCall } from './connection.ts';

const HIT = `
local w = redis.call('HGET', KEYS[1], 'w')
if w and tonumber(w) >= tonumber(ARGV[1]) then
  return redis.call('HINCRBY', KEYS[1], 'c', 1)
end
redis.call('HSET', KEYS[1], 'w', ARGV[1], 'c', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

const PEEK = `
local v = redis.call('HMGET', KEYS[1], 'w', 'c')
if v[1] and tonumber(v[1]) >= tonumber(ARGV[1]) then return tonumber(v[2]) end
return 0`;

export function createRedisRateLimitStore(
  redis: Redis,
  opts: { readonly prefix: string; readonly now?: () => number },
): RateLimitStore {
  const now = opts.now ?? Date.now;
  const keyOf = (key: string) => `${opts.prefix}rl:${key}`;
  return {
    async hit(key, windowSeconds) {
      const t = now();
      const start = windowStart(windowSeconds, t);
      const ttl = Math.max(1, windowEndsAt(windowSeconds, t) - t);
      return Number(await redisCall(() => redis.eval(HIT, 1, keyOf(key), start, ttl)));
    },
    async peek(key, windowSeconds) {
      const start = windowStart(windowSeconds, now());
      return Number(await redisCall(() => redis.eval(PEEK, 1, keyOf(key), start)));
    },
    async reset(key) {
      await redisCall(() => redis.del(keyOf(key)));
    },
  };
}
