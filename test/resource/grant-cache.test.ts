/**
 * The gate's revocation-aware cache on its own: what it reads and when, with a scripted storage whose
 * reads resolve when the test says so (the races are ordered by hand, not by timing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGrantCache, type GrantCacheOptions } from '../../src/resource/grant-cache.ts';
import type { GrantAndUser } from '../../src/storage/types.ts';

const LIVE: GrantAndUser = {
  grant: { accountId: 'u1', clientId: 'c1' },
  user: { id: 'u1', username: 'demo', name: 'Demo', email: 'd@example.com', role: 'user', createdAt: 0 },
};
const REVOKED: GrantAndUser = { grant: undefined, user: LIVE.user };

/** A storage whose every read waits until `settle` answers it. */
function scriptedStore() {
  const pending: {
    grantId: string;
    userId: string;
    resolve: (v: GrantAndUser) => void;
    reject: (e: unknown) => void;
  }[] = [];
  return {
    reads: pending,
    load: (grantId: string, userId: string) =>
      new Promise<GrantAndUser>((resolve, reject) => pending.push({ grantId, userId, resolve, reject })),
    /** Answers the oldest unanswered read. */
    settle(value: GrantAndUser | Error) {
      const next = pending.find((p) => !(p as { done?: boolean }).done) as
        | ((typeof pending)[number] & { done?: boolean })
        | undefined;
      assert.ok(next, 'a read is waiting');
      next.done = true;
      if (value instanceof Error) next.reject(value);
      else next.resolve(value);
    },
  };
}

function cacheOver(store: ReturnType<typeof scriptedStore>, extra: Partial<GrantCacheOptions> = {}) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const cache = createGrantCache({
    load: store.load,
    maxEntries: 100,
    maxAgeMs: () => 60_000,
    now: clock.now,
    ...extra,
  });
  return { cache, clock };
}

/** Lets settled promises run their continuations. */
const flush = () => new Promise((r) => setImmediate(r));

describe('grant cache', () => {
  it('a miss reads once; a hit reads nothing', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const first = cache.findGrantAndUser('g1', 'u1');
    store.settle(LIVE);
    assert.deepEqual(await first, LIVE);
    assert.deepEqual(await cache.findGrantAndUser('g1', 'u1'), LIVE);
    assert.deepEqual(await cache.findGrantAndUser('g1', 'u1'), LIVE);
    assert.equal(store.reads.length, 1);
    assert.deepEqual({ ...cache.stats }, { hits: 2, misses: 1, coalesced: 0, discarded: 0 });
  });

  it('concurrent misses for one grant share one read', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const all = Array.from({ length: 20 }, () => cache.findGrantAndUser('g1', 'u1'));
    assert.equal(store.reads.length, 1);
    store.settle(LIVE);
    for (const answer of await Promise.all(all)) assert.deepEqual(answer, LIVE);
    assert.equal(cache.stats.coalesced, 19);
  });

  it('the same grant under another subject is read uncached and leaves the entry alone (the gate refuses the mismatch)', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const a = cache.findGrantAndUser('g1', 'u1');
    const b = cache.findGrantAndUser('g1', 'u2');
    assert.equal(store.reads.length, 2, 'not coalesced with another subject’s read');
    store.settle(LIVE);
    store.settle(REVOKED);
    assert.deepEqual(await a, LIVE);
    assert.deepEqual(await b, REVOKED);
    const c = cache.findGrantAndUser('g1', 'u2');
    assert.equal(store.reads.length, 3, 'another subject never reads the cached entry');
    store.settle(REVOKED);
    await c;
    assert.deepEqual(await cache.findGrantAndUser('g1', 'u1'), LIVE, 'the entry is intact');
    assert.equal(store.reads.length, 3);
  });

  it('forgetGrant / forgetUser / forgetAll drop matching entries only, and the next request reads again', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const warm = async (g: string, u: string) => {
      const p = cache.findGrantAndUser(g, u);
      if (store.reads.length > 0 && !(store.reads.at(-1) as { done?: boolean }).done) store.settle(LIVE);
      return p;
    };
    await warm('g1', 'u1');
    await warm('g2', 'u1');
    await warm('g3', 'u3');
    assert.equal(cache.size, 3);
    cache.forgetGrant('g1');
    assert.equal(cache.size, 2);
    cache.forgetUser('u1');
    assert.equal(cache.size, 1, 'both of u1’s grants dropped, u3 kept');
    const reads = store.reads.length;
    const again = cache.findGrantAndUser('g1', 'u1');
    assert.equal(store.reads.length, reads + 1);
    store.settle(REVOKED);
    assert.deepEqual(await again, REVOKED);
    cache.forgetAll();
    assert.equal(cache.size, 0);
  });

  it('a read that raced an invalidation answers its waiters but is not kept', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const before = cache.findGrantAndUser('g1', 'u1'); // read starts: the grant is still there
    cache.forgetGrant('g1'); // the revocation commits and is announced meanwhile
    store.settle(LIVE); // the read answers what it saw before the revocation
    assert.deepEqual(await before, LIVE, 'a request concurrent with the revocation');
    assert.equal(cache.size, 0, 'the stale answer was not stored');
    assert.equal(cache.stats.discarded, 1);
    const next = cache.findGrantAndUser('g1', 'u1');
    assert.equal(store.reads.length, 2, 'the next request reads storage again');
    store.settle(REVOKED);
    assert.deepEqual(await next, REVOKED);
  });

  it('a request after an invalidation never joins a read that started before it', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const early = cache.findGrantAndUser('g1', 'u1');
    cache.forgetGrant('g1');
    const late = cache.findGrantAndUser('g1', 'u1');
    assert.equal(store.reads.length, 2, 'its own read');
    store.settle(LIVE);
    store.settle(REVOKED);
    assert.deepEqual(await early, LIVE);
    assert.deepEqual(await late, REVOKED);
    await flush();
    // The newer read was not disturbed by the older one finishing: it is what stays cached.
    assert.deepEqual(await cache.findGrantAndUser('g1', 'u1'), REVOKED);
    assert.equal(store.reads.length, 2);
  });

  it('an invalidation of another grant also keeps an in-flight read from being stored (conservative)', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const p = cache.findGrantAndUser('g1', 'u1');
    cache.forgetUser('someone-else');
    store.settle(LIVE);
    await p;
    assert.equal(cache.size, 0);
  });

  it('a failed read is not kept, and its error reaches every waiter', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const a = cache.findGrantAndUser('g1', 'u1');
    const b = cache.findGrantAndUser('g1', 'u1');
    store.settle(new Error('database down'));
    await assert.rejects(a, /database down/);
    await assert.rejects(b, /database down/);
    const c = cache.findGrantAndUser('g1', 'u1');
    assert.equal(store.reads.length, 2);
    store.settle(LIVE);
    assert.deepEqual(await c, LIVE);
  });

  it('found entries live maxAgeMs at most, absent answers negativeAgeMs, a grant no longer than its exp', async () => {
    const store = scriptedStore();
    let maxAge = 60_000;
    const { cache, clock } = cacheOver(store, { maxAgeMs: () => maxAge, negativeAgeMs: 2_000 });
    const read = async (g: string, answer: GrantAndUser) => {
      const before = store.reads.length;
      const p = cache.findGrantAndUser(g, 'u1');
      const didRead = store.reads.length > before;
      if (didRead) store.settle(answer);
      await p;
      return didRead;
    };
    assert.equal(await read('g1', LIVE), true);
    assert.equal(await read('gone', REVOKED), true);
    clock.advance(1_999);
    assert.equal(await read('gone', REVOKED), false, 'negative answer still kept');
    clock.advance(1);
    assert.equal(await read('gone', REVOKED), true, 'negative answer re-read after 2 s');
    clock.advance(58_000);
    assert.equal(await read('g1', LIVE), true, 'found entry re-read after 60 s');
    maxAge = 1_000; // nothing announces foreign writes any more
    cache.forgetAll();
    assert.equal(await read('g1', LIVE), true);
    clock.advance(999);
    assert.equal(await read('g1', LIVE), false);
    clock.advance(1);
    assert.equal(await read('g1', LIVE), true, 'the shortened trust applies to new entries');
    const expiring = { ...LIVE, grant: { ...LIVE.grant, exp: Math.floor(clock.now() / 1000) + 5 } };
    assert.equal(await read('g5', expiring), true);
    maxAge = 60_000;
    assert.equal(await read('g5', expiring), false);
    clock.advance(5_000);
    assert.equal(await read('g5', expiring), true, 'the grant’s own expiry ends the entry');
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store, { maxEntries: 3 });
    const use = async (g: string) => {
      const before = store.reads.length;
      const p = cache.findGrantAndUser(g, 'u1');
      if (store.reads.length > before) store.settle(LIVE);
      await p;
      return store.reads.length > before;
    };
    for (const g of ['a', 'b', 'c']) await use(g);
    assert.equal(await use('a'), false, 'a is now the most recent');
    await use('d'); // evicts b
    assert.equal(cache.size, 3);
    assert.equal(await use('a'), false);
    assert.equal(await use('c'), false);
    assert.equal(await use('b'), true, 'b was evicted');
  });

  it('keeps only what the gate reads of the grant (owner, client, expiry), not the whole payload', async () => {
    const store = scriptedStore();
    const { cache } = cacheOver(store);
    const full: GrantAndUser = {
      grant: {
        accountId: 'u1',
        clientId: 'c1',
        exp: 9_999_999_999,
        resources: { 'https://x/mcp': 'mcp:tools' },
      },
      user: LIVE.user,
    };
    const first = cache.findGrantAndUser('g1', 'u1');
    store.settle(full);
    assert.deepEqual(await first, full, 'the reading request gets what storage said');
    assert.deepEqual(await cache.findGrantAndUser('g1', 'u1'), {
      grant: { accountId: 'u1', clientId: 'c1', exp: 9_999_999_999 },
      user: LIVE.user,
    });
  });

  it('refuses a size below 1 (0 means no cache: the server passes storage itself)', () => {
    assert.throws(
      () => createGrantCache({ load: async () => LIVE, maxEntries: 0, maxAgeMs: () => 1 }),
      RangeError,
    );
  });
});
