/**
 * The gate's revocation-aware cache: the grant and the user behind a verified user token, so a cached
 * /mcp request does no storage read and a miss does one (`findGrantAndUser`, one joined query).
 *
 * Correctness rests on invalidation, not on age: whoever changes a grant or a user publishes on the
 * invalidation bus (cluster/compose-storage.ts) and the server drops the matching entries at once
 * (`forgetGrant`, `forgetUser`); writes no event reaches — another process on the same SQLite file —
 * are noticed by polling `PRAGMA data_version` (`forgetAll`, cluster/foreign-writes.ts). Age is the
 * backstop where neither can see: every entry is trusted at most `maxAgeMs()` (the server shortens it
 * to 1 s when nothing can announce foreign writes: PostgreSQL without Redis, or Redis disconnected).
 *
 * Races. A read that started before an invalidation may return what was true before it. Each
 * invalidation bumps `generation`; a read stores its answer only if no invalidation happened while it
 * ran (its answer is still returned to the requests that were waiting for it: they were concurrent
 * with the change). In-flight reads are dropped from the coalescing table too, so a request that
 * arrives after the invalidation never joins a read that started before it.
 *
 * Entries: least recently used leave first past `maxEntries` (a Map keeps insertion order; a hit
 * re-inserts). "No such grant / user" answers are kept briefly (`negativeAgeMs`), so a client hammering
 * with a dead token costs one read per interval, not one per request — never for long, since an
 * absent grant cannot come back and an absent user's id is never reused.
 */
import type { GateStore, GrantAndUser } from '../storage/types.ts';

export interface GrantCacheOptions {
  readonly load: GateStore['findGrantAndUser'];
  /** Entries held at most; 0 is refused here (the server passes storage itself instead). */
  readonly maxEntries: number;
  /** How long a found entry is trusted without an invalidation (ms), read when it is stored. */
  readonly maxAgeMs: () => number;
  /** How long a "grant or user absent" answer is kept (ms). Default 2 000. */
  readonly negativeAgeMs?: number;
  readonly now?: () => number;
}

export interface GrantCache extends GateStore {
  forgetGrant(grantId: string): void;
  forgetUser(userId: string): void;
  /** Everything may have changed (a foreign write, a gap in the bus). */
  forgetAll(): void;
  readonly size: number;
  readonly stats: { hits: number; misses: number; coalesced: number; discarded: number };
}

interface Entry {
  readonly grantId: string;
  readonly userId: string;
  readonly value: GrantAndUser;
  /** ms since the epoch */
  readonly until: number;
}

const DEFAULT_NEGATIVE_MS = 2_000;

/**
 * What an entry keeps of the grant: the fields the gate reads (caller.ts: owner, client, expiry), not
 * oidc-provider's whole payload (scopes per resource, claims, rejections) — 10 000 entries stay small.
 */
function kept(value: GrantAndUser): GrantAndUser {
  const { grant } = value;
  if (grant === undefined) return value;
  const { accountId, clientId, exp } = grant;
  return {
    grant: {
      ...(accountId !== undefined && { accountId }),
      ...(clientId !== undefined && { clientId }),
      ...(exp !== undefined && { exp }),
    },
    user: value.user,
  };
}

export function createGrantCache(opts: GrantCacheOptions): GrantCache {
  if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) {
    throw new RangeError('maxEntries must be a whole number ≥ 1');
  }
  const now = opts.now ?? Date.now;
  const negativeAgeMs = opts.negativeAgeMs ?? DEFAULT_NEGATIVE_MS;
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, { readonly userId: string; readonly read: Promise<GrantAndUser> }>();
  const stats = { hits: 0, misses: 0, coalesced: 0, discarded: 0 };
  let generation = 0;

  const invalidate = (drop: (e: Entry) => boolean) => {
    generation++;
    inflight.clear();
    for (const [key, entry] of entries) if (drop(entry)) entries.delete(key);
  };

  const store = (grantId: string, userId: string, value: GrantAndUser) => {
    const t = now();
    let until = t + (value.grant && value.user ? opts.maxAgeMs() : Math.min(negativeAgeMs, opts.maxAgeMs()));
    // A grant that expires sooner is re-read then (its row may have been renewed meanwhile).
    const exp = value.grant?.exp;
    if (typeof exp === 'number') until = Math.min(until, exp * 1000);
    if (until <= t) return;
    entries.delete(grantId);
    entries.set(grantId, { grantId, userId, value: kept(value), until });
    while (entries.size > opts.maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  };

  return {
    stats,
    get size() {
      return entries.size;
    },
    findGrantAndUser(grantId, userId) {
      // Keyed by the grant alone: the verifier hands the same id string on every request of a token,
      // so the Map reuses its hash. A grant has one account, so another subject is a token the gate
      // refuses anyway ('mismatch'): read for it, uncached, and leave the entry alone.
      const hit = entries.get(grantId);
      if (hit !== undefined && hit.userId !== userId) {
        stats.misses++;
        return opts.load(grantId, userId);
      }
      if (hit !== undefined) {
        entries.delete(grantId);
        if (hit.until > now()) {
          entries.set(grantId, hit);
          stats.hits++;
          return Promise.resolve(hit.value);
        }
      }
      const pending = inflight.get(grantId);
      if (pending !== undefined && pending.userId === userId) {
        stats.coalesced++;
        return pending.read;
      }
      stats.misses++;
      if (pending !== undefined) return opts.load(grantId, userId);
      const startedAt = generation;
      const read = opts.load(grantId, userId).then(
        (value) => {
          if (inflight.get(grantId)?.read === read) inflight.delete(grantId);
          if (generation === startedAt) store(grantId, userId, value);
          else stats.discarded++;
          return value;
        },
        (error: unknown) => {
          if (inflight.get(grantId)?.read === read) inflight.delete(grantId);
          throw error;
        },
      );
      inflight.set(grantId, { userId, read });
      return read;
    },
    forgetGrant: (grantId) => invalidate((e) => e.grantId === grantId),
    forgetUser: (userId) => invalidate((e) => e.userId === userId),
    forgetAll: () => invalidate(() => true),
  };
}
