/**
 * The 2025-era sessions this process holds a live copy of (transport and server), with the limits a
 * process needs: a cap on all of them (a new one beyond it is refused) and idle expiry (a sweep ends
 * copies unused for `idleSeconds`). Ending a copy closes its transport (open streams end) and its server
 * (waiting server-to-client requests fail). The per-owner pool cap is the directory's
 * (directory.ts), since a pool spans instances.
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

/**
 * Why a copy ends. `evicted` and `revoked` end the session itself (everywhere); `idle` and `shutdown`
 * end this copy (across instances the record lives on until its own idle expiry); `ended`: the session
 * was ended already — by a DELETE (which removes it everywhere before the copy closes) or on another
 * instance.
 */
export type EndReason = 'idle' | 'evicted' | 'revoked' | 'shutdown' | 'ended';

export interface SessionTable<E extends TableEntry> {
  get(id: string): E | undefined;
  /** Whether another copy may open (false: the server-wide cap is reached, even after a sweep). */
  hasRoom(): boolean;
  add(entry: E): void;
  touch(entry: E): void;
  end(id: string, reason: EndReason): Promise<void>;
  /** Ends every session whose owner matches; returns how many. */
  endWhere(matches: (owner: SessionOwner) => boolean, reason: EndReason): Promise<number>;
  entries(): IterableIterator<E>;
  readonly size: number;
  close(): Promise<void>;
}

export function createSessionTable<E extends TableEntry>(
  limits: Pick<McpSessionSettings, 'idleSeconds' | 'max'>,
  opts: { now?: () => number; onEnd?: (entry: E, reason: EndReason) => void; sweepMs?: number } = {},
): SessionTable<E> {
  const now = opts.now ?? Date.now;
  const sessions = new Map<string, E>();

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
    hasRoom() {
      if (sessions.size < limits.max) return true;
      sweep();
      return sessions.size < limits.max;
    },
    add(entry) {
      sessions.set(entry.id, entry);
    },
    touch(entry) {
      entry.lastUsed = now();
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
