/**
 * The invalidation bus across instances: Redis pub/sub on `<prefix>invalidations`. A subscriber needs
 * its own connection (a subscribed Redis connection can do nothing else), duplicated from the main one.
 *
 * Each message carries the sender's instance id; the sender delivers locally at once and ignores its
 * own echo, so local subscribers never wait for Redis and never see an event twice. When Redis is
 * down, `publish` still delivers locally and then rejects (`StorageUnavailableError`), so the caller
 * learns that other instances were not told; they catch up through storage (key store re-read,
 * per-request grant checks). ioredis re-subscribes by itself after a reconnect; messages published
 * while the subscriber was away are lost, so its return is announced locally as `bus.resumed` (caches
 * drop everything), and `connected()` is false meanwhile (caches shorten what they trust).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import { redisCall } from '../storage/redis/connection.ts';
import { createLocalDelivery, type InvalidationBus, parseInvalidation } from './invalidation-bus.ts';

export async function createRedisBus(
  redis: Redis,
  opts: { readonly prefix: string; readonly logger?: Logger },
): Promise<InvalidationBus> {
  const channel = `${opts.prefix}invalidations`;
  const origin = randomUUID();
  const local = createLocalDelivery((err) => opts.logger?.error({ err }, 'invalidation listener failed'));
  const subscriber = redis.duplicate({ connectionName: 'sekisho-bus' });
  subscriber.on('error', () => {}); // the main connection already logs the outage
  await subscriber.connect();
  await subscriber.subscribe(channel);
  let lost = false;
  subscriber.on('close', () => {
    lost = true;
  });
  // After a reconnect ioredis sends SUBSCRIBE again before it reports ready (autoResubscribe).
  subscriber.on('ready', () => {
    if (!lost) return;
    lost = false;
    local.deliver({ type: 'bus.resumed' });
  });
  subscriber.on('message', (_channel: string, message: string) => {
    let envelope: { origin?: unknown; event?: unknown };
    try {
      envelope = JSON.parse(message) as typeof envelope;
    } catch {
      return;
    }
    if (envelope.origin === origin) return;
    const event = parseInvalidation(JSON.stringify(envelope.event ?? null));
    if (event) local.deliver(event);
  });
  return {
    async publish(event) {
      local.deliver(event);
      await redisCall(() => redis.publish(channel, JSON.stringify({ origin, event })));
    },
    subscribe: local.subscribe,
    shared: true,
    connected: () => !lost && subscriber.status === 'ready',
    async close() {
      subscriber.disconnect();
    },
  };
}
