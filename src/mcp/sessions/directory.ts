/**
 * The session directory: what is known about every 2025-era session beyond the process that serves a
 * request of it — its record (owner, the initialize it was opened with), its owner pool's cap, its
 * event store, and (across instances) who writes its standalone-stream messages and how a message
 * reaches another instance.
 *
 * Two implementations behind this one seam:
 *  - in process (`createLocalDirectory`, here): one box, no Redis; the records and pools live in this
 *    process and the rest is trivial (every session is served here);
 *  - Redis (`cluster/redis-session-directory.ts`): records, pools and events in Redis, so a request of a
 *    session may land on any instance, which rebuilds a local copy from the record
 *    (`rebuild.ts`).
 */
import type { EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';
import { type BoundedEventStore, createMemoryEventStore, type EventStoreLimits } from './event-store.ts';
import type { SessionOwner } from './owner.ts';

/** What a session is, as stored: never a token or a secret — the bearer gate authorizes every request. */
export interface SessionRecord {
  readonly id: string;
  readonly owner: SessionOwner;
  /** The `initialize` request's params (protocol version, capabilities, client info): replayed to rebuild. */
  readonly initialize: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** A session's event store as the SDK transport uses it (`getStreamIdForEventId` enables the 409 check). */
export interface SessionEventStore extends EventStore {
  getStreamIdForEventId(eventId: string): Promise<StreamId | undefined>;
  /** Events and bytes held now, when known without a round trip (the in-process store). */
  size?(): { events: number; bytes: number };
}

/** A message for the instance that can act on it: a client's answer to its request, or a stream message. */
export interface RoutedMessage {
  readonly kind: 'response' | 'notify';
  readonly sessionId: string;
  readonly message: JSONRPCMessage;
}

export interface SessionDirectory {
  /** This instance's id when other instances share the directory; undefined in process. */
  readonly instanceId: string | undefined;
  /**
   * Records a new session in its owner's pool, which holds at most `poolCap`: resolves with the ids of
   * the least recently used sessions it pushed out (the caller ends them).
   */
  open(record: SessionRecord, poolCap: number): Promise<string[]>;
  /** The record, or undefined when unknown, expired or unreadable. */
  find(id: string): Promise<SessionRecord | undefined>;
  /** In use now (idle expiry restarts, LRU order). Resolves false when the record is gone. */
  touch(id: string, owner: SessionOwner): Promise<boolean>;
  /** Forgets the session everywhere (record, pool, events; other instances drop their copies). */
  end(id: string, owner: SessionOwner): Promise<void>;
  eventStore(id: string): SessionEventStore;
  /** The instance that writes this session's standalone-stream messages (shared directories only). */
  writerOf(id: string): Promise<string | undefined>;
  /** This instance holds (or keeps holding) the session's GET stream / no longer does. */
  holdStream(id: string): Promise<void>;
  releaseStream(id: string): Promise<void>;
  /** Sends a message to another instance's `onRouted` listener (best effort). */
  route(instanceId: string, message: RoutedMessage): Promise<void>;
  onRouted(listener: (message: RoutedMessage) => void): void;
  close(): Promise<void>;
}

/** Anonymous callers share one pool, this many times the per-user cap. */
export const ANONYMOUS_POOL_FACTOR = 16;

export function poolCapOf(owner: SessionOwner, perUser: number): number {
  return owner.kind === 'anonymous' ? perUser * ANONYMOUS_POOL_FACTOR : perUser;
}

/** A session id as `newSessionId` makes them (32 bytes, base64url): anything else is unknown at once. */
export function isSessionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(id);
}

/** One process: records in a Map whose insertion order is use order (touch re-inserts). */
export function createLocalDirectory(limits: EventStoreLimits): SessionDirectory & {
  eventStore(id: string): BoundedEventStore;
} {
  const records = new Map<string, SessionRecord>();
  return {
    instanceId: undefined,
    async open(record, poolCap) {
      const pool = [...records.values()].filter((r) => r.owner.poolKey === record.owner.poolKey);
      const evicted = pool.slice(0, Math.max(0, pool.length - poolCap + 1)).map((r) => r.id);
      for (const id of evicted) records.delete(id);
      records.set(record.id, record);
      return evicted;
    },
    async find(id) {
      return records.get(id);
    },
    async touch(id) {
      const record = records.get(id);
      if (!record) return false;
      records.delete(id);
      records.set(id, record);
      return true;
    },
    async end(id) {
      records.delete(id);
    },
    eventStore: () => createMemoryEventStore(limits),
    writerOf: async () => undefined,
    holdStream: async () => {},
    releaseStream: async () => {},
    route: async () => {},
    onRouted: () => {},
    async close() {
      records.clear();
    },
  };
}
