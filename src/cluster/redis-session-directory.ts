/**
 * The 2025-era session directory in Redis (the seam is mcp/sessions/directory.ts): with it a request
 * of a session may land on any instance. Keys, all under `SEKISHO_REDIS_KEY_PREFIX`:
 *
 *  - `mcp:session:<id>`   the record (owner, the initialize params, created) — no token, no secret;
 *                         TTL = the idle expiry, renewed by use at most every `refreshMs` (each use
 *                         reads that it still exists; it writes only when renewing);
 *  - `mcp:pool:<hash>`    a sorted set per owner pool (user and client pair; anonymous callers share one),
 *                         score = last use: the per-user cap across instances, least recently used out;
 *  - `mcp:events:<id>`    the event store (redis-session-events.ts);
 *  - `mcp:holder:<id>`    the instance holding the session's GET stream (short TTL, renewed while open);
 *  - `mcp:writer:<id>`    when nobody holds one, the instance elected (SET NX) to write session-wide
 *                         notifications, so each is stored once however many instances hold a copy;
 *  - channel `mcp:instance:<instance id>`: messages for one instance (a client's answer to a request it
 *    sent, a stream message for the GET stream it holds).
 *
 * Ending a session deletes its keys and publishes `session.ended` on the invalidation bus, so every
 * instance drops its copy. Everything read back is parsed defensively: a corrupt record is unknown (404).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { RoutedMessage, SessionDirectory, SessionRecord } from '../mcp/sessions/directory.ts';
import type { EventStoreLimits } from '../mcp/sessions/event-store.ts';
import type { SessionOwner } from '../mcp/sessions/owner.ts';
import type { Logger } from '../observability/logger.ts';
import { redisCall } from '../storage/redis/connection.ts';
import type { InvalidationBus } from './invalidation-bus.ts';
import { createRedisEventStore, eventKeysOf } from './redis-session-events.ts';

export interface RedisSessionDirectoryOptions {
  readonly prefix: string;
  readonly bus: InvalidationBus;
  readonly idleSeconds: number;
  readonly limits: EventStoreLimits;
  readonly logger?: Logger;
  /** How often use renews the TTLs at most (default: a quarter of the idle time, at most 30 s). */
  readonly refreshMs?: number;
  readonly now?: () => number;
}

/** GET stream holders renew every 15 s (legacy-sessions.ts → cross-instance.ts `stillOpen`); a dead holder is forgotten after this. */
export const HOLDER_TTL_MS = 45_000;
/** An elected writer serves one burst of copies reacting to the same change. */
export const WRITER_TTL_MS = 10_000;
const MAX_RECORD_CHARS = 262_144;

const OPEN = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local members = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, m in ipairs(members) do
  if m ~= ARGV[4] and redis.call('EXISTS', ARGV[6] .. m) == 0 then redis.call('ZREM', KEYS[2], m) end
end
local evicted = {}
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if over <= 0 then break end
    if m ~= ARGV[4] then
      redis.call('ZREM', KEYS[2], m)
      table.insert(evicted, m)
      over = over - 1
    end
  end
end
return evicted
`;

const TOUCH = `
local alive = redis.call('PEXPIRE', KEYS[1], ARGV[1])
if alive == 1 then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[4], 'XX', ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[4], ARGV[1])
end
return alive
`;

const WRITER = `
local holder = redis.call('GET', KEYS[1])
if holder then return holder end
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
return redis.call('GET', KEYS[2])
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** A record as read from Redis, or undefined for anything that is not exactly one of ours. */
export function parseSessionRecord(text: string | null, id: string): SessionRecord | undefined {
  if (text === null || text.length > MAX_RECORD_CHARS) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value) || value.id !== id || !isObject(value.owner) || !isObject(value.initialize)) {
    return undefined;
  }
  if (typeof value.createdAt !== 'number' || !Number.isFinite(value.createdAt)) return undefined;
  const o = value.owner;
  const str = (v: unknown) => typeof v === 'string' && v.length <= 1_024;
  const optional = (v: unknown) => v === undefined || str(v);
  if (o.kind !== 'user' && o.kind !== 'service' && o.kind !== 'anonymous') return undefined;
  if (!str(o.subject) || !str(o.poolKey) || !optional(o.clientId) || !optional(o.grantId)) return undefined;
  const owner: SessionOwner = {
    kind: o.kind,
    subject: o.subject as string,
    clientId: o.clientId as string | undefined,
    grantId: o.grantId as string | undefined,
    poolKey: o.poolKey as string,
  };
  return { id, owner, initialize: value.initialize, createdAt: value.createdAt };
}

/** A routed message from the instance channel, or undefined for anything malformed. */
export function parseRoutedMessage(text: string): RoutedMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value) || (value.kind !== 'response' && value.kind !== 'notify')) return undefined;
  if (typeof value.sessionId !== 'string' || value.sessionId.length > 256) return undefined;
  if (!isObject(value.message) || value.message.jsonrpc !== '2.0') return undefined;
  return { kind: value.kind, sessionId: value.sessionId, message: value.message as JSONRPCMessage };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function createRedisSessionDirectory(
  redis: Redis,
  opts: RedisSessionDirectoryOptions,
): Promise<SessionDirectory> {
  const { prefix, logger } = opts;
  const now = opts.now ?? Date.now;
  const ttlMs = opts.idleSeconds * 1000;
  const refreshMs = opts.refreshMs ?? Math.min(30_000, ttlMs / 4);
  const instanceId = randomBytes(8).toString('hex');
  const recordPrefix = `${prefix}mcp:session:`;
  const recordKey = (id: string) => `${recordPrefix}${id}`;
  const poolKey = (owner: SessionOwner) =>
    `${prefix}mcp:pool:${createHash('sha256').update(owner.poolKey).digest('base64url')}`;
  const holderKey = (id: string) => `${prefix}mcp:holder:${id}`;
  const writerKey = (id: string) => `${prefix}mcp:writer:${id}`;
  const channelOf = (instance: string) => `${prefix}mcp:instance:${instance}`;
  // When each session's TTLs were last renewed from here: use renews them at most every refreshMs.
  const renewed = new Map<string, number>();

  const listeners: ((message: RoutedMessage) => void)[] = [];
  const subscriber = redis.duplicate({ connectionName: 'sekisho-sessions' });
  subscriber.on('error', () => {}); // the main connection already logs an outage
  await subscriber.connect();
  await subscriber.subscribe(channelOf(instanceId));
  subscriber.on('message', (_channel: string, text: string) => {
    const message = parseRoutedMessage(text);
    if (!message) return void logger?.debug('malformed routed session message dropped');
    for (const listener of listeners) {
      try {
        listener(message);
      } catch (err) {
        logger?.warn({ err }, 'routed session message failed');
      }
    }
  });

  return {
    instanceId,
    async open(record, poolCap) {
      const evicted = (await redisCall(() =>
        redis.eval(
          OPEN,
          2,
          recordKey(record.id),
          poolKey(record.owner),
          JSON.stringify(record),
          ttlMs,
          now(),
          record.id,
          poolCap,
          recordPrefix,
        ),
      )) as unknown;
      renewed.set(record.id, now());
      return Array.isArray(evicted) ? evicted.filter((id): id is string => typeof id === 'string') : [];
    },
    async find(id) {
      return parseSessionRecord(await redisCall(() => redis.get(recordKey(id))), id);
    },
    async touch(id, owner) {
      // Every use reads (a session ended elsewhere is gone here at once, even if the bus message is
      // late or lost); only every refreshMs does it write.
      const last = renewed.get(id);
      if (last !== undefined && now() - last < refreshMs) {
        return (await redisCall(() => redis.exists(recordKey(id)))) === 1;
      }
      if (renewed.size > 100_000) renewed.clear();
      renewed.set(id, now());
      const events = eventKeysOf(prefix, id);
      const alive = await redisCall(() =>
        redis.eval(TOUCH, 4, recordKey(id), events.stream, events.bytes, poolKey(owner), ttlMs, now(), id),
      );
      return alive === 1;
    },
    async end(id, owner) {
      renewed.delete(id);
      const events = eventKeysOf(prefix, id);
      await redisCall(() =>
        redis
          .multi()
          .del(recordKey(id), events.stream, events.bytes, holderKey(id), writerKey(id))
          .zrem(poolKey(owner), id)
          .exec(),
      );
      await opts.bus.publish({ type: 'session.ended', sessionId: id });
    },
    eventStore: (id) => createRedisEventStore(redis, id, { prefix, limits: opts.limits, ttlMs }),
    async writerOf(id) {
      const writer = await redisCall(() =>
        redis.eval(WRITER, 2, holderKey(id), writerKey(id), instanceId, WRITER_TTL_MS),
      );
      return typeof writer === 'string' ? writer : instanceId;
    },
    async holdStream(id) {
      await redisCall(() => redis.set(holderKey(id), instanceId, 'PX', HOLDER_TTL_MS));
    },
    async releaseStream(id) {
      await redisCall(() => redis.eval(RELEASE, 1, holderKey(id), instanceId));
    },
    async route(instance, message) {
      if (!/^[0-9a-f]{16}$/.test(instance)) return;
      await redisCall(() => redis.publish(channelOf(instance), JSON.stringify(message)));
    },
    onRouted(listener) {
      listeners.push(listener);
    },
    async close() {
      renewed.clear();
      subscriber.disconnect();
    },
  };
}
