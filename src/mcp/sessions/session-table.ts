/**
 * The 2025-era sessions this process serves, with their limits: a cap per owner pool (a new session
 * beyond it ends that pool's least recently used one), a cap on all sessions (a new one beyond it is
 * refused), and idle expiry (a sweep ends sessions unused for `idleSeconds`). Ending a session closes
 * its transport (open streams end) and its server (waiting server-to-client requests fail).
 */
import type { McpSessionSettings } from '../../config/config.ts';
import type { SessionOwner } from './owner.ts';

export interface TableEntry {
  readonly id: string;
  readonly owner: SessionOwner;
  /** Milliseconds since the epoch of the last request. */
  lastUsed: number;
  /** Closes the transport and server; called once, by the table. */
  close(): Promise<void>;
}

export type EndReason = 'deleted' | 'idle' | 'evicted' | 'revoked' | 'shutdown';

export interface SessionTable<E extends TableEntry> {
  get(id: string): E | undefined;
  /** Whether a new session may open (false: the server-wide cap is reached). Evicts within the pool. */
  makeRoom(owner: SessionOwner): Promise<boolean>;
  add(entry: E): void;
  touch(entry: E): void;
  end(id: string, reason: EndReason): Promise<void>;
  /** Ends every session whose owner matches; returns how many. */
  endWhere(matches: (owner: SessionOwner) => boolean, reason: EndReason): Promise<number>;
  entries(): IterableIterator<E>;
  readonly size: number;
  close(): Promise<void>;
}

/** Anonymous callers share one pool, this many times the per-user cap. */
export const ANONYMOUS_POOL_FACTOR = 16;

export function createSessionTable<E extends TableEntry>(
  limits: Pick<McpSessionSettings, 'idleSeconds' | 'perUser' | 'max'>,
  opts: { now?: () => number; onEnd?: (entry: E, reason: EndReason) => void; sweepMs?: number } = {},
): SessionTable<E> {
  const now = opts.now ?? Date.now;
  // Insertion order is use order: touch() re-inserts, so the first entry of a pool is its LRU one.
  const sessions = new Map<string, E>();
  const capOf = (owner: SessionOwner) =>
    owner.kind === 'anonymous' ? limits.perUser * ANONYMOUS_POOL_FACTOR : limits.perUser;

  const end = async (id: string, reason: EndReason) => {
    const entry = sessions.get(id);
    if (!entry) return;
    sessions.delete(id);
    opts.onEnd?.(entry, reason);
    await entry.close().catch(() => {});
  };

  const sweep = () => {
    const cutoff = now() - limits.idleSeconds * 1000;
    for (const entry of [...sessions.values()]) {
      if (entry.lastUsed < cutoff) void end(entry.id, 'idle');
    }
  };
  const timer = setInterval(sweep, opts.sweepMs ?? Math.min(60_000, (limits.idleSeconds * 1000) / 4));
  timer.unref();

  return {
    get(id) {
      const entry = sessions.get(id);
      if (entry && entry.lastUsed < now() - limits.idleSeconds * 1000) {
        void end(id, 'idle');
        return undefined;
      }
      return entry;
    },
    async makeRoom(owner) {
      const pool = [...sessions.values()].filter((e) => e.owner.poolKey === owner.poolKey);
      for (const oldest of pool.slice(0, Math.max(0, pool.length - capOf(owner) + 1))) {
        await end(oldest.id, 'evicted');
      }
      if (sessions.size < limits.max) return true;
      sweep();
      return sessions.size < limits.max;
    },
    add(entry) {
      sessions.set(entry.id, entry);
    },
    touch(entry) {
      entry.lastUsed = now();
      if (sessions.delete(entry.id)) sessions.set(entry.id, entry);
    },
    end,
    async endWhere(matches, reason) {
      const doomed = [...sessions.values()].filter((e) => matches(e.owner));
      await Promise.all(doomed.map((e) => end(e.id, reason)));
      return doomed.length;
    },
    entries: () => sessions.values(),
    get size() {
      return sessions.size;
    },
    async close() {
      clearInterval(timer);
      await Promise.all([...sessions.keys()].map((id) => end(id, 'shutdown')));
    },
  };
}
