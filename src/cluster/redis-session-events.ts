/**
 * A 2025-era session's event store in Redis, so a stream dropped on one instance resumes on any other
 * (`Last-Event-ID`) with nothing lost. One Redis Stream per session (`<prefix>mcp:events:<session>`)
 * plus its byte count; every instance holding a copy of the session writes to and replays from it.
 *
 *  - Event ids are `<stream entry id>_<SDK stream id>`: Redis makes entry ids unique and ordered per
 *    session whichever instance writes, and the SDK stream id tells which stream an event belongs to.
 *  - Bounded like the in-process store, by count and by bytes (oldest dropped first, atomically in
 *    one script), and it expires with the session (TTL = idle expiry, renewed at each write and touch).
 *  - Everything read back is parsed defensively: an unreadable entry is skipped, an id that is not ours
 *    resumes nothing (the SDK answers 400 and the client opens a fresh stream).
 */
import type { JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import type { SessionEventStore } from '../mcp/sessions/directory.ts';
import type { EventStoreLimits } from '../mcp/sessions/event-store.ts';
import { redisCall } from '../storage/redis/connection.ts';

/** Catch-up passes over events stored during a replay; later ones arrive live. */
const MAX_REPLAY_PASSES = 4;

const STORE = `
local id = redis.call('XADD', KEYS[1], '*', 's', ARGV[1], 'm', ARGV[2], 'b', ARGV[3])
local bytes = redis.call('INCRBY', KEYS[2], ARGV[3])
local len = redis.call('XLEN', KEYS[1])
local guard = 0
while len > 0 and (len > tonumber(ARGV[4]) or bytes > tonumber(ARGV[5])) and guard < 100000 do
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  local size = 0
  local fields = first[1][2]
  for i = 1, #fields, 2 do if fields[i] == 'b' then size = tonumber(fields[i + 1]) or 0 end end
  redis.call('XDEL', KEYS[1], first[1][1])
  bytes = redis.call('DECRBY', KEYS[2], size)
  len = len - 1
  guard = guard + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return id
`;

export interface RedisEventStoreOptions {
  readonly prefix: string;
  readonly limits: EventStoreLimits;
  /** The session's idle expiry: the events expire with it. */
  readonly ttlMs: number;
}

export function eventKeysOf(prefix: string, sessionId: string) {
  const stream = `${prefix}mcp:events:${sessionId}`;
  return { stream, bytes: `${stream}:bytes` };
}

/** `<entry id>_<stream id>` split back, or undefined for anything else. */
export function parseRedisEventId(eventId: string): { entry: string; streamId: StreamId } | undefined {
  const cut = eventId.indexOf('_');
  if (cut <= 0) return undefined;
  const entry = eventId.slice(0, cut);
  const streamId = eventId.slice(cut + 1);
  if (!/^\d{1,20}-\d{1,20}$/.test(entry) || streamId === '' || streamId.length > 128) return undefined;
  return { entry, streamId };
}

interface Entry {
  readonly entry: string;
  readonly streamId: string;
  readonly message: JSONRPCMessage | undefined;
}

/** One XRANGE row (`[id, [field, value, …]]`) read defensively. */
function entryOf(row: unknown): Entry | undefined {
  if (!Array.isArray(row) || typeof row[0] !== 'string' || !Array.isArray(row[1])) return undefined;
  const fields = row[1] as unknown[];
  let streamId: string | undefined;
  let text: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 's' && typeof fields[i + 1] === 'string') streamId = fields[i + 1] as string;
    if (fields[i] === 'm' && typeof fields[i + 1] === 'string') text = fields[i + 1] as string;
  }
  if (streamId === undefined) return undefined;
  let message: JSONRPCMessage | undefined;
  try {
    const value: unknown = JSON.parse(text ?? '');
    if (value && typeof value === 'object' && !Array.isArray(value)) message = value as JSONRPCMessage;
  } catch {
    message = undefined;
  }
  return { entry: row[0], streamId, message };
}

export function createRedisEventStore(
  redis: Redis,
  sessionId: string,
  opts: RedisEventStoreOptions,
): SessionEventStore {
  const keys = eventKeysOf(opts.prefix, sessionId);
  const range = async (from: string, count: number) =>
    ((await redisCall(() => redis.xrange(keys.stream, from, '+', 'COUNT', count))) as unknown[])
      .map(entryOf)
      .filter((e): e is Entry => e !== undefined);

  const exists = async (eventId: string) => {
    const parsed = parseRedisEventId(eventId);
    if (!parsed) return undefined;
    const [found] = await range(parsed.entry, 1);
    return found && found.entry === parsed.entry && found.streamId === parsed.streamId ? parsed : undefined;
  };

  return {
    async storeEvent(streamId, message) {
      const text = JSON.stringify(message);
      const entry = (await redisCall(() =>
        redis.eval(
          STORE,
          2,
          keys.stream,
          keys.bytes,
          streamId,
          text,
          Buffer.byteLength(text),
          opts.limits.events,
          opts.limits.bytes,
          opts.ttlMs,
        ),
      )) as string;
      return `${entry}_${streamId}`;
    },
    async getStreamIdForEventId(eventId) {
      return (await exists(eventId))?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const from = await exists(lastEventId);
      if (!from) return '';
      let after = from.entry;
      for (let pass = 0; pass < MAX_REPLAY_PASSES; pass++) {
        // Exclusive start: the event the client already has is not sent again.
        const next = (await range(`(${after}`, opts.limits.events)).filter(
          (e) => e.streamId === from.streamId,
        );
        if (next.length === 0) break;
        for (const event of next) {
          after = event.entry;
          // The priming event (an empty message) starts a stream; it is stored but never replayed.
          if (event.message && Object.keys(event.message).length > 0) {
            await send(`${event.entry}_${event.streamId}`, event.message);
          }
        }
      }
      return from.streamId;
    },
  };
}
