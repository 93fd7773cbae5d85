/**
 * Redis for tests: the machine's server at 127.0.0.1:6379 (override with TEST_REDIS_URL), a fresh key
 * prefix per run so parallel runs never collide, and the clean-up that deletes the prefix's keys.
 * Redis missing: skip loudly on a laptop, fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Why Redis at `url` cannot be used, or undefined when it answers PING (bounded by `timeoutMs`). */
export async function pingRedis(url: string, timeoutMs: number): Promise<string | undefined> {
  const probe = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    probe.disconnect();
  }
}

/** Why Redis tests cannot run here, or undefined when they can. Throws under CI. */
export async function redisUnavailable(): Promise<string | undefined> {
  const failure = await pingRedis(TEST_REDIS_URL, 1_000);
  if (failure === undefined) return undefined;
  const reason = `Redis not reachable at ${TEST_REDIS_URL} (${failure})`;
  if (process.env.CI === 'true') throw new Error(`${reason} — required in CI`);
  console.warn(`SKIPPING Redis tests: ${reason}`);
  return reason;
}

/** A key prefix no other run uses. */
export function freshPrefix(label = 'test'): string {
  return `sekisho-${label}-${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, bounded batches). */
export async function dropPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}
