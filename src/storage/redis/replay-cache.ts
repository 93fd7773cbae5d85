/** ReplayCache on Redis: `SET key 1 NX PX ttl` — one atomic first-writer-wins step for every instance. */
import type { Redis } from 'ioredis';
import type { ReplayCache } from '../types.ts';
import { redisCall } from './connection.ts';

export function createRedisReplayCache(redis: Redis, opts: { readonly prefix: string }): ReplayCache {
  return {
    async remember(key, ttlSeconds) {
      const ttl = Math.max(1, Math.ceil(ttlSeconds * 1000));
      const answer = await redisCall(() => redis.set(`${opts.prefix}replay:${key}`, '1', 'PX', ttl, 'NX'));
      return answer === 'OK';
    },
  };
}
