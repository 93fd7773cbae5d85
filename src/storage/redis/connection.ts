/**
 * One Redis connection as Sekisho wants it (ioredis), and the start-up rule around it.
 *
 * Start: connect with a bounded retry (`connectRedis`); still unreachable after the last attempt →
 * `RedisUnreachableError`, which `main.ts` prints in one line (exit 1). Running: ioredis reconnects
 * forever with a capped back-off, so the server recovers by itself when Redis returns. While it is
 * down nothing queues: `enableOfflineQueue: false` fails a command at once, and `commandTimeout`
 * bounds one that was sent to a Redis that stopped answering — callers turn either into
 * `StorageUnavailableError` (503 + Retry-After), never a hang and never a silent pass.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../../observability/logger.ts';
import { StorageUnavailableError } from '../errors.ts';

export interface RedisConnectOptions {
  readonly url: string;
  readonly logger?: Logger;
  /** Connection attempts at start before giving up. Default 10. */
  readonly attempts?: number;
  /** Pause between attempts (ms). Default 1000. */
  readonly retryDelayMs?: number;
  /** A command not answered within this long fails (ms). Default 2000. */
  readonly commandTimeoutMs?: number;
  /** Name shown in `CLIENT LIST` (which process holds the connection). */
  readonly name?: string;
}

/** Redis stayed unreachable through every start-up attempt. The message is safe to print. */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return 'redis://…';
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}

export function redisOptions(opts: Pick<RedisConnectOptions, 'commandTimeoutMs' | 'name'>): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 2_000,
    connectTimeout: 2_000,
    // Reconnect forever, 100 ms growing to 2 s between attempts: recovery needs no operator.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    connectionName: opts.name ?? 'sekisho',
  };
}

/**
 * Connects and pings, retrying `attempts` times. Resolves with a ready client; rejects with
 * `RedisUnreachableError` (closing the client) when Redis never answered.
 */
export async function connectRedis(opts: RedisConnectOptions): Promise<Redis> {
  const attempts = opts.attempts ?? 10;
  const delay = opts.retryDelayMs ?? 1_000;
  const where = redactRedisUrl(opts.url);
  // Loaded here, not at start: a server without Redis never loads ioredis (idle memory).
  const { Redis } = await import('ioredis');
  const client = new Redis(opts.url, redisOptions(opts));
  // ioredis emits 'error' on every failed (re)connect; without a listener Node would crash the process.
  let lastError = 'no answer';
  let down = false;
  client.on('error', (err: Error) => {
    lastError = err.message;
    if (!down) opts.logger?.warn({ redis: where, reason: err.message }, 'redis connection problem');
    down = true;
  });
  client.on('ready', () => {
    if (down) opts.logger?.info({ redis: where }, 'redis connection restored');
    down = false;
  });
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      await client.ping();
      return client;
    } catch (error) {
      // Prefer the connection's own reason (ECONNREFUSED, auth) over "stream isn't writeable".
      if (!down) lastError = (error as Error).message || lastError;
      opts.logger?.warn({ redis: where, attempt, attempts }, 'redis not reachable yet');
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  client.disconnect();
  throw new RedisUnreachableError(
    `cannot reach Redis at ${where} (SEKISHO_REDIS_URL) after ${attempts} attempts: ${lastError}`,
  );
}

/** Runs one Redis operation; any failure becomes `StorageUnavailableError`. */
export async function redisCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new StorageUnavailableError('redis is unavailable', { cause: error });
  }
}
