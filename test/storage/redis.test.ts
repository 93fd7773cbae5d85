/**
 * Redis as shared ephemeral state: the storage contract with Redis counting the throttles, Redis
 * specifics (clock skew, expiry, no fail-open when down), the replay cache, the invalidation bus across
 * connections, and the start-up rule (bounded retry, one clear error). Fresh key prefix per run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { composeStorage } from '../../src/cluster/compose-storage.ts';
import {
  createInProcessBus,
  type Invalidation,
  parseInvalidation,
} from '../../src/cluster/invalidation-bus.ts';
import { openSharedState, type SharedStateHandle } from '../../src/cluster/shared-state.ts';
import { StorageUnavailableError } from '../../src/storage/errors.ts';
import { createMemoryReplayCache } from '../../src/storage/memory-replay-cache.ts';
import { connectRedis, RedisUnreachableError, redactRedisUrl } from '../../src/storage/redis/connection.ts';
import { createRedisRateLimitStore } from '../../src/storage/redis/rate-limit-store.ts';
import { createRedisReplayCache } from '../../src/storage/redis/replay-cache.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { runStorageContract } from '../contract/storage.contract.ts';
import { freePort } from '../helpers/free-port.ts';
import { dropPrefix, freshPrefix, redisUnavailable, TEST_REDIS_URL } from '../helpers/redis.ts';

const skip = await redisUnavailable();
const prefix = freshPrefix('storage');
let redis: Redis;

before(async () => {
  if (skip) return;
  redis = await connectRedis({ url: TEST_REDIS_URL, attempts: 2 });
});
after(async () => {
  if (skip) return;
  redis.disconnect();
  await dropPrefix(prefix);
});

let run = 0;
if (!skip) {
  runStorageContract('sqlite :memory: + Redis throttles', ({ now }) =>
    composeStorage(openSqliteStorage({ path: ':memory:', now }), {
      rateLimits: createRedisRateLimitStore(redis, { prefix: `${prefix}c${run++}:`, now }),
    }),
  );
}

describe('Redis rate limits', { skip }, () => {
  it('a lagging clock never reopens a window another instance is counting in', async () => {
    let t = Date.UTC(2030, 0, 1, 0, 15);
    const ahead = createRedisRateLimitStore(redis, { prefix: `${prefix}skew:`, now: () => t });
    const behind = createRedisRateLimitStore(redis, { prefix: `${prefix}skew:`, now: () => t - 2_000 });
    for (let i = 0; i < 3; i++) await ahead.hit('login:user:eve', 900);
    // `behind` still thinks the previous window is running: it must count on, not start at 1.
    assert.equal(await behind.hit('login:user:eve', 900), 4);
    assert.equal(await behind.peek('login:user:eve', 900), 4);
    t += 900_000;
    assert.equal(await ahead.hit('login:user:eve', 900), 1, 'the next window starts over');
  });

  it('a window key expires in Redis when its window ends', async () => {
    const t = Date.UTC(2030, 0, 1, 0, 0, 59, 0);
    const store = createRedisRateLimitStore(redis, { prefix: `${prefix}ttl:`, now: () => t });
    await store.hit('k', 60);
    const ttl = await redis.pttl(`${prefix}ttl:rl:k`);
    assert.ok(ttl > 0 && ttl <= 1_000, `expires with its window (pttl ${ttl})`);
  });

  it('hundreds of concurrent hits from two connections each get a distinct count', async () => {
    const other = await connectRedis({ url: TEST_REDIS_URL, attempts: 1 });
    try {
      const a = createRedisRateLimitStore(redis, { prefix: `${prefix}race:` });
      const b = createRedisRateLimitStore(other, { prefix: `${prefix}race:` });
      const counts = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).hit('register:ip:1.2.3.4', 3600)),
      );
      assert.deepEqual(
        [...counts].sort((x, y) => x - y),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
    } finally {
      other.disconnect();
    }
  });
});

describe('replay cache', () => {
  it('in process: first sighting only, again after the TTL, fails closed when full', async () => {
    let t = 1_000_000;
    const cache = createMemoryReplayCache({ maxEntries: 2, now: () => t });
    assert.equal(await cache.remember('jti-1', 60), true);
    assert.equal(await cache.remember('jti-1', 60), false);
    assert.equal(await cache.remember('jti-2', 60), true);
    assert.equal(await cache.remember('jti-3', 60), false, 'full of live entries: refuse, never forget one');
    t += 60_000;
    assert.equal(await cache.remember('jti-1', 60), true, 'remembered only for its TTL');
  });

  it('Redis: exactly one of many concurrent callers sees a value first', { skip }, async () => {
    const cache = createRedisReplayCache(redis, { prefix });
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.remember('dpop:jti-x', 30)));
    assert.equal(answers.filter(Boolean).length, 1);
    const ttl = await redis.pttl(`${prefix}replay:dpop:jti-x`);
    assert.ok(ttl > 29_000 && ttl <= 30_000, `kept for its TTL (pttl ${ttl})`);
  });
});

describe('invalidation bus', () => {
  it('in process: every subscriber gets each event once; a throwing listener harms no other', async () => {
    const errors: unknown[] = [];
    const bus = createInProcessBus((e) => errors.push(e));
    const got: Invalidation[] = [];
    bus.subscribe(() => {
      throw new Error('boom');
    });
    const off = bus.subscribe((e) => got.push(e));
    await bus.publish({ type: 'grant.revoked', grantId: 'g1' });
    off();
    await bus.publish({ type: 'keys.rotated' });
    assert.deepEqual(got, [{ type: 'grant.revoked', grantId: 'g1' }]);
    assert.equal(errors.length, 2);
  });

  it('wire format: only well-formed events are accepted', () => {
    assert.deepEqual(parseInvalidation('{"type":"user.removed","userId":"usr_1"}'), {
      type: 'user.removed',
      userId: 'usr_1',
    });
    for (const bad of [
      'not json',
      'null',
      '{"type":"grant.revoked"}',
      '{"type":"grant.revoked","grantId":5}',
      `{"type":"user.changed","userId":"${'x'.repeat(300)}"}`,
      '{"type":"drop.tables"}',
    ]) {
      assert.equal(parseInvalidation(bad), undefined, bad);
    }
  });

  it('Redis: an event published on one instance reaches the others once, and the sender once', {
    skip,
  }, async () => {
    const config = { redisUrl: TEST_REDIS_URL, redisKeyPrefix: `${prefix}bus:` };
    const a = await openSharedState(config);
    const b = await openSharedState(config);
    const c = await openSharedState({ ...config, redisKeyPrefix: `${prefix}other:` });
    try {
      const seen = { a: [] as Invalidation[], b: [] as Invalidation[], c: [] as Invalidation[] };
      a.bus.subscribe((e) => seen.a.push(e));
      b.bus.subscribe((e) => seen.b.push(e));
      c.bus.subscribe((e) => seen.c.push(e));
      await a.bus.publish({ type: 'keys.rotated' });
      await a.bus.publish({ type: 'user.changed', userId: 'usr_2' });
      // A forged message on the channel that is not an event is ignored.
      await redis.publish(`${prefix}bus:invalidations`, '{"origin":"x","event":{"type":"nope"}}');
      for (let i = 0; i < 100 && seen.b.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen.a, [{ type: 'keys.rotated' }, { type: 'user.changed', userId: 'usr_2' }]);
      assert.deepEqual(seen.b, seen.a);
      assert.deepEqual(seen.c, [], 'another prefix is another deployment');
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('Redis unreachable', () => {
  it('at start: a bounded retry, then one error naming the key and the address (no password)', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(
      connectRedis({ url: `redis://:s3cret@127.0.0.1:${port}/0`, attempts: 3, retryDelayMs: 100 }),
      (e: unknown) => {
        assert.ok(e instanceof RedisUnreachableError);
        assert.match(
          e.message,
          /^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 \(SEKISHO_REDIS_URL\) after 3 attempts/,
        );
        assert.doesNotMatch(e.message, /s3cret/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 10_000, 'bounded');
    assert.equal(redactRedisUrl('rediss://user:pw@h:1'), 'rediss://user:***@h:1');
  });

  it('while running: throttle calls fail fast with StorageUnavailableError (never a pass), then recover', {
    skip,
  }, async () => {
    const shared: SharedStateHandle = await openSharedState({
      redisUrl: TEST_REDIS_URL,
      redisKeyPrefix: `${prefix}down:`,
    });
    try {
      const limits = shared.rateLimits!;
      assert.equal(await limits.hit('k', 60), 1);
      // Cut this client's connection from the server side, as a Redis restart would.
      const id = await shared.redis!.client('ID');
      await redis.client('KILL', 'ID', String(id));
      const started = Date.now();
      await assert.rejects(limits.hit('k', 60), StorageUnavailableError);
      await assert.rejects(shared.readiness[0]!.check(), StorageUnavailableError);
      assert.ok(Date.now() - started < 5_000, 'fails fast, no hang');
      let count: number | undefined;
      for (let i = 0; i < 100 && count === undefined; i++) {
        count = await limits.hit('k', 60).catch(() => undefined);
        if (count === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(count, 2, 'reconnected by itself, and the count survived');
    } finally {
      await shared.close();
    }
  });
});
