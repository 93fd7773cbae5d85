/**
 * What instances share without persisting it, opened from the configuration:
 *
 *  - with `SEKISHO_REDIS_URL`: throttle counters, the replay cache and the invalidation bus in Redis
 *    (keys and channel under `SEKISHO_REDIS_KEY_PREFIX`), and a `redis` readiness check;
 *  - without: the durable storage keeps the counters (SQLite/PostgreSQL, as before), the replay cache
 *    is in process and the bus is an EventEmitter — right for one process, and the start-up log says
 *    that several instances need Redis.
 *
 * Start-up connects with a bounded retry (`connectRedis`): an unreachable Redis stops the process
 * with one clear line rather than starting an instance whose throttles cannot work.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { createMemoryReplayCache } from '../storage/memory-replay-cache.ts';
import { connectRedis, redisCall } from '../storage/redis/connection.ts';
import { createRedisRateLimitStore } from '../storage/redis/rate-limit-store.ts';
import { createRedisReplayCache } from '../storage/redis/replay-cache.ts';
import type { RateLimitStore, ReplayCache } from '../storage/types.ts';
import { createInProcessBus, type InvalidationBus } from './invalidation-bus.ts';
import { createRedisBus } from './redis-bus.ts';

export interface SharedStateHandle {
  /** Undefined without Redis: the durable storage's own counters are used. */
  readonly rateLimits: RateLimitStore | undefined;
  readonly replay: ReplayCache;
  readonly bus: InvalidationBus;
  /** Extra /readyz checks (`redis` when configured). */
  readonly readiness: readonly { readonly name: string; check(): Promise<void> }[];
  /** The Redis connection, when configured (tests and diagnostics). */
  readonly redis: Redis | undefined;
  close(): Promise<void>;
}

export interface SharedStateOptions {
  readonly logger?: Logger;
  /** Start-up connection attempts (default 10, one a second). */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  /** Clock for rate-limit windows (tests). */
  readonly now?: () => number;
  /** Who holds the connection (`CLIENT LIST`), e.g. `sekisho-cli`. */
  readonly name?: string;
}

export async function openSharedState(
  config: Pick<Config, 'redisUrl' | 'redisKeyPrefix'>,
  opts: SharedStateOptions = {},
): Promise<SharedStateHandle> {
  const { logger } = opts;
  const onListenerError = (err: unknown) => logger?.error({ err }, 'invalidation listener failed');
  if (!config.redisUrl) {
    const bus = createInProcessBus(onListenerError);
    return {
      rateLimits: undefined,
      replay: createMemoryReplayCache({ now: opts.now }),
      bus,
      readiness: [],
      redis: undefined,
      close: () => bus.close(),
    };
  }
  const prefix = config.redisKeyPrefix;
  const redis = await connectRedis({
    url: config.redisUrl,
    logger,
    attempts: opts.attempts,
    retryDelayMs: opts.retryDelayMs,
    name: opts.name,
  });
  let bus: InvalidationBus;
  try {
    bus = await createRedisBus(redis, { prefix, logger });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  let closed = false;
  return {
    rateLimits: createRedisRateLimitStore(redis, { prefix, now: opts.now }),
    replay: createRedisReplayCache(redis, { prefix }),
    bus,
    readiness: [{ name: 'redis', check: async () => void (await redisCall(() => redis.ping())) }],
    redis,
    async close() {
      if (closed) return;
      closed = true;
      await bus.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
