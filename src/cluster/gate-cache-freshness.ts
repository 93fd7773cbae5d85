/**
 * What keeps the /mcp gate's cache (resource/grant-cache.ts) true to storage, and how long it may
 * trust an entry — the one place that states the staleness bounds docs/security.md repeats:
 *
 *  - this process's writes, and with Redis every instance's and the CLI's: the invalidation bus drops
 *    the grant's or the user's entries before the write's caller is answered (next request re-reads);
 *  - another process on the same SQLite file without Redis (the CLI): `PRAGMA data_version`, polled
 *    every 250 ms, drops everything (foreign-writes.ts);
 *  - nothing can announce foreign writes (PostgreSQL without Redis — the CLI, or a second instance
 *    someone started without Redis — or Redis disconnected): entries are trusted 1 s;
 *  - otherwise entries still live at most 30 s: the backstop for an event lost where nothing could
 *    tell (a Redis connection dead without a reset, not yet noticed by ioredis).
 */
import type { GrantCache } from '../resource/grant-cache.ts';
import type { Storage } from '../storage/types.ts';
import { watchForeignWrites } from './foreign-writes.ts';
import type { Invalidation, InvalidationBus } from './invalidation-bus.ts';

/** Trust when invalidations can reach us; the backstop against a lost event. */
export const ANNOUNCED_MAX_AGE_MS = 30_000;
/** Trust when a foreign write could go unannounced: the stated bound on staleness. */
export const UNANNOUNCED_MAX_AGE_MS = 1_000;

/** How long an entry stored now may be trusted, given what can tell us about changes. */
export function trustedAgeMs(
  bus: Pick<InvalidationBus, 'shared' | 'connected'>,
  storage: Pick<Storage, 'dataVersion'>,
): number {
  if (bus.shared) return bus.connected() ? ANNOUNCED_MAX_AGE_MS : UNANNOUNCED_MAX_AGE_MS;
  return storage.dataVersion !== undefined ? ANNOUNCED_MAX_AGE_MS : UNANNOUNCED_MAX_AGE_MS;
}

/** Subscribes the cache to every change source; returns the stop function. */
export function keepGateCacheFresh(
  cache: Pick<GrantCache, 'forgetGrant' | 'forgetUser' | 'forgetAll'>,
  sources: { readonly bus: InvalidationBus; readonly storage: Pick<Storage, 'dataVersion'> },
): () => void {
  const unsubscribe = sources.bus.subscribe((event: Invalidation) => {
    switch (event.type) {
      case 'grant.revoked':
        return cache.forgetGrant(event.grantId);
      case 'user.changed':
      case 'user.removed':
        return cache.forgetUser(event.userId);
      case 'bus.resumed':
        return cache.forgetAll();
      case 'keys.rotated':
      case 'conformance.lists':
      case 'session.ended':
        return;
    }
  });
  const stopWatching = watchForeignWrites(sources.storage, () => cache.forgetAll());
  return () => {
    unsubscribe();
    stopWatching?.();
  };
}
