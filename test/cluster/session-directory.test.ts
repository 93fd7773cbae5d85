/**
 * The 2025-era session directory's contract (mcp/sessions/directory.ts), run against both
 * implementations — in process and Redis (cluster/redis-session-directory.ts): the per-owner pool cap
 * (least recently used out, anonymous callers' larger shared pool), find/touch/end. Then what only the
 * Redis one has: TTLs (idle expiry, renewed by use), corrupt records and routed messages parsed
 * defensively, the GET-stream holder and the elected writer, routing between instances; and the Redis
 * event store: ids unique per session, bounded by count and bytes, replay after an id, corrupt entries
 * skipped, expiry with the session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Caller } from '../../src/access/policy.ts';
import { createInProcessBus } from '../../src/cluster/invalidation-bus.ts';
import {
  createRedisSessionDirectory,
  parseRoutedMessage,
  parseSessionRecord,
} from '../../src/cluster/redis-session-directory.ts';
import { createRedisEventStore, eventKeysOf } from '../../src/cluster/redis-session-events.ts';
import {
  localAnswer,
  parseRoutedId,
  routedIdOf,
  splitInbound,
} from '../../src/mcp/sessions/cross-instance.ts';
import {
  ANONYMOUS_POOL_FACTOR,
  createLocalDirectory,
  poolCapOf,
  type RoutedMessage,
  type SessionDirectory,
  type SessionRecord,
} from '../../src/mcp/sessions/directory.ts';
import { newSessionId } from '../../src/mcp/sessions/legacy-sessions.ts';
import { ownerOf } from '../../src/mcp/sessions/owner.ts';
import { dropPrefix, freshPrefix, redisUnavailable, TEST_REDIS_URL } from '../helpers/redis.ts';

const skip = await redisUnavailable();
const LIMITS = { events: 5, bytes: 10_000 };

let redis: Redis;
let prefix: string;

before(async () => {
  if (skip) return;
  prefix = freshPrefix('session-directory');
  redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

after(async () => {
  if (skip) return;
  redis.disconnect();
  await dropPrefix(prefix);
});

function user(id: string, grantId = `g-${id}`): Caller {
  return {
    kind: 'user',
    userId: id,
    username: id,
    name: id,
    email: `${id}@example.test`,
    role: 'user',
    clientId: 'c',
    grantId,
    scopes: new Set(['mcp:tools']),
    expiresAt: 0,
  };
}

function record(caller: Caller): SessionRecord {
  return {
    id: newSessionId(),
    owner: ownerOf(caller),
    initialize: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } },
    createdAt: Date.now(),
  };
}

const redisDirectory = (opts: { idleSeconds?: number; refreshMs?: number; now?: () => number } = {}) =>
  createRedisSessionDirectory(redis, {
    prefix,
    bus: createInProcessBus(),
    idleSeconds: opts.idleSeconds ?? 60,
    limits: LIMITS,
    ...(opts.refreshMs !== undefined && { refreshMs: opts.refreshMs }),
    ...(opts.now && { now: opts.now }),
  });

const implementations: [string, () => Promise<SessionDirectory>][] = [
  ['in process', async () => createLocalDirectory(LIMITS)],
  ['Redis', () => redisDirectory({ refreshMs: 0 })],
];

for (const [name, make] of implementations) {
  describe(`session directory contract: ${name}`, { skip: name === 'Redis' && skip }, () => {
    it('finds what it recorded, and nothing after end', async () => {
      const directory = await make();
      const r = record(user('a'));
      assert.deepEqual(await directory.open(r, 3), []);
      assert.deepEqual(await directory.find(r.id), r);
      assert.equal(await directory.touch(r.id, r.owner), true);
      await directory.end(r.id, r.owner);
      assert.equal(await directory.find(r.id), undefined);
      assert.equal(await directory.touch(r.id, r.owner), false);
      assert.equal(await directory.find(newSessionId()), undefined);
      await directory.close();
    });

    it('beyond the pool cap, the least recently used session of that owner goes, no other', async () => {
      const directory = await make();
      const a1 = record(user('a'));
      const a2 = record(user('a'));
      const b1 = record(user('b'));
      await directory.open(a1, 2);
      await new Promise((r) => setTimeout(r, 5));
      await directory.open(a2, 2);
      await directory.open(b1, 2);
      await new Promise((r) => setTimeout(r, 5));
      await directory.touch(a1.id, a1.owner); // a2 is now a's least recently used
      const a3 = record(user('a'));
      assert.deepEqual(await directory.open(a3, 2), [a2.id]);
      for (const kept of [a1, a3, b1]) assert.ok(await directory.find(kept.id));
      await directory.close();
    });

    it('anonymous callers share one pool, larger than a user’s', async () => {
      const directory = await make();
      const cap = poolCapOf(ownerOf({ kind: 'anonymous' }), 1);
      assert.equal(cap, ANONYMOUS_POOL_FACTOR);
      const opened: string[][] = [];
      for (let i = 0; i <= cap; i++) opened.push(await directory.open(record({ kind: 'anonymous' }), cap));
      assert.equal(opened.flat().length, 1, 'the pool is full: one anonymous session goes');
      await directory.close();
    });
  });
}

describe('Redis session directory', { skip }, () => {
  it('a record expires after the idle time; use renews it (at most every refreshMs)', async () => {
    const directory = await redisDirectory({ idleSeconds: 60, refreshMs: 0 });
    const r = record(user('ttl'));
    await directory.open(r, 3);
    const key = `${prefix}mcp:session:${r.id}`;
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
    await redis.pexpire(key, 1_000);
    assert.equal(await directory.touch(r.id, r.owner), true);
    assert.ok((await redis.pttl(key)) > 55_000, 'touch renewed it');
    await redis.pexpire(key, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await directory.find(r.id), undefined, 'expired');
    await directory.close();

    // Without refreshMs 0, a touch within the refresh interval writes nothing.
    let now = 1_000_000;
    const lazy = await redisDirectory({ idleSeconds: 60, now: () => now });
    const s = record(user('lazy'));
    await lazy.open(s, 3);
    await redis.pexpire(`${prefix}mcp:session:${s.id}`, 5_000);
    now += 1_000;
    assert.equal(await lazy.touch(s.id, s.owner), true);
    assert.ok((await redis.pttl(`${prefix}mcp:session:${s.id}`)) <= 5_000, 'no write within the interval');
    now += 30_000;
    await lazy.touch(s.id, s.owner);
    assert.ok((await redis.pttl(`${prefix}mcp:session:${s.id}`)) > 55_000, 'renewed after it');
    await lazy.close();
  });

  it('a record gone (ended elsewhere, news lost) is noticed at the next use, without waiting to renew', async () => {
    const directory = await redisDirectory({ idleSeconds: 60 });
    const r = record(user('gone'));
    await directory.open(r, 3);
    assert.equal(await directory.touch(r.id, r.owner), true);
    await redis.del(`${prefix}mcp:session:${r.id}`);
    assert.equal(await directory.touch(r.id, r.owner), false);
    await directory.close();
  });

  it('a corrupt record is unknown, never a crash', async () => {
    const directory = await redisDirectory();
    const id = newSessionId();
    const key = `${prefix}mcp:session:${id}`;
    const good = JSON.stringify(record(user('x')));
    for (const bad of [
      'not json',
      'null',
      '[]',
      JSON.stringify({ ...JSON.parse(good), id: newSessionId() }),
      JSON.stringify({ ...JSON.parse(good), id, owner: { kind: 'root', subject: 'x', poolKey: 'p' } }),
      JSON.stringify({ ...JSON.parse(good), id, owner: { kind: 'user', subject: 7, poolKey: 'p' } }),
      JSON.stringify({ ...JSON.parse(good), id, initialize: 'x' }),
      JSON.stringify({ ...JSON.parse(good), id, createdAt: 'yesterday' }),
    ]) {
      await redis.set(key, bad);
      assert.equal(await directory.find(id), undefined, bad);
    }
    assert.equal(parseSessionRecord('x'.repeat(300_000), id), undefined, 'oversized');
    await redis.set(key, JSON.stringify({ ...JSON.parse(good), id }));
    assert.ok(await directory.find(id), 'a well-formed one is read');
    await directory.close();
  });

  it('routed messages are parsed defensively', () => {
    const ok = { kind: 'response', sessionId: 's', message: { jsonrpc: '2.0', id: 'x:1', result: {} } };
    assert.deepEqual(parseRoutedMessage(JSON.stringify(ok)), ok);
    for (const bad of [
      'nope',
      JSON.stringify({ ...ok, kind: 'shell' }),
      JSON.stringify({ ...ok, sessionId: 5 }),
      JSON.stringify({ ...ok, message: { id: 1 } }),
      JSON.stringify({ ...ok, message: [] }),
    ]) {
      assert.equal(parseRoutedMessage(bad), undefined, bad);
    }
  });

  it('the GET stream holder writes; without one, one instance is elected; messages reach an instance', async () => {
    const [a, b] = [await redisDirectory(), await redisDirectory()];
    const id = newSessionId();
    assert.notEqual(a.instanceId, b.instanceId);
    const elected = await a.writerOf(id);
    assert.equal(elected, a.instanceId, 'the first to ask is elected');
    assert.equal(await b.writerOf(id), a.instanceId, 'and the others defer to it');
    await b.holdStream(id);
    assert.equal(await a.writerOf(id), b.instanceId, 'the holder of the GET stream writes');
    await a.releaseStream(id);
    assert.equal(await a.writerOf(id), b.instanceId, 'only the holder releases its hold');
    await b.releaseStream(id);
    assert.equal(await b.writerOf(id), a.instanceId, 'back to the elected writer');

    const got: RoutedMessage[] = [];
    b.onRouted((m) => got.push(m));
    const message: RoutedMessage = {
      kind: 'response',
      sessionId: id,
      message: { jsonrpc: '2.0', id: `${a.instanceId}:3`, result: {} },
    };
    await a.route(b.instanceId!, message);
    await a.route('not-an-instance', message); // dropped quietly
    for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [message]);
    await a.close();
    await b.close();
  });

  it('ending a session removes its keys and tells every instance', async () => {
    const bus = createInProcessBus();
    const seen: unknown[] = [];
    bus.subscribe((e) => seen.push(e));
    const directory = await createRedisSessionDirectory(redis, {
      prefix,
      bus,
      idleSeconds: 60,
      limits: LIMITS,
    });
    const r = record(user('end'));
    await directory.open(r, 3);
    await directory.eventStore(r.id).storeEvent('s', { jsonrpc: '2.0', method: 'm' });
    await directory.end(r.id, r.owner);
    assert.equal(await redis.exists(`${prefix}mcp:session:${r.id}`, eventKeysOf(prefix, r.id).stream), 0);
    assert.deepEqual(seen, [{ type: 'session.ended', sessionId: r.id }]);
    await directory.close();
  });
});

describe('Redis session event store', { skip }, () => {
  const store = (limits = LIMITS, ttlMs = 60_000) => {
    const session = newSessionId();
    return { session, events: createRedisEventStore(redis, session, { prefix, limits, ttlMs }) };
  };
  const note = (i: number) => ({ jsonrpc: '2.0' as const, method: 'notifications/message', params: { i } });

  it('ids are unique and ordered per session; replay sends what followed, on that stream only', async () => {
    const { events } = store();
    const ids = [
      await events.storeEvent('_GET_stream', {} as never), // priming: stored, never replayed
      await events.storeEvent('_GET_stream', note(1)),
      await events.storeEvent('post-1', note(2)),
      await events.storeEvent('_GET_stream', note(3)),
    ];
    assert.equal(new Set(ids).size, 4);
    assert.equal(await events.getStreamIdForEventId(ids[2]!), 'post-1');
    const sent: unknown[] = [];
    const stream = await events.replayEventsAfter(ids[0]!, { send: async (_id, m) => void sent.push(m) });
    assert.equal(stream, '_GET_stream');
    assert.deepEqual(sent, [note(1), note(3)]);
  });

  it('bounded by count and by bytes: the oldest go first, and their ids resume nothing', async () => {
    const { session, events } = store({ events: 3, bytes: 100_000 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await events.storeEvent('s', note(i)));
    assert.equal(await redis.xlen(eventKeysOf(prefix, session).stream), 3);
    assert.equal(await events.getStreamIdForEventId(ids[0]!), undefined);
    assert.equal(await events.replayEventsAfter(ids[0]!, { send: async () => {} }), '');

    const small = store({ events: 100, bytes: 300 });
    for (let i = 0; i < 20; i++)
      await small.events.storeEvent('s', { jsonrpc: '2.0', method: 'x'.repeat(50) });
    const keys = eventKeysOf(prefix, small.session);
    assert.ok(Number(await redis.get(keys.bytes)) <= 300, 'bytes bounded');
    assert.ok((await redis.xlen(keys.stream)) < 20);
  });

  it('expires with the session; foreign, malformed and corrupt ids or entries resume nothing', async () => {
    const { session, events } = store(LIMITS, 60_000);
    const id = await events.storeEvent('s', note(1));
    const ttl = await redis.pttl(eventKeysOf(prefix, session).stream);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
    for (const bad of [
      '',
      'x',
      '1-0',
      '1-0_',
      'abc_s',
      `${id.split('_')[0]}_other-stream`,
      '99999999999999-0_s',
    ]) {
      assert.equal(await events.getStreamIdForEventId(bad), undefined, bad);
    }
    // A corrupt entry written behind the store's back is skipped, not sent, never a crash.
    await redis.xadd(eventKeysOf(prefix, session).stream, '*', 's', 's', 'm', '{not json', 'b', '9');
    const after = await events.storeEvent('s', note(2));
    const sent: unknown[] = [];
    await events.replayEventsAfter(id, { send: async (_id, m) => void sent.push(m) });
    assert.deepEqual(sent, [note(2)]);
    assert.ok(after);
  });
});

describe('answers to server requests across instances (cross-instance.ts)', () => {
  const me = '0123456789abcdef';
  const other = 'fedcba9876543210';
  it('a POST’s answers split into ours (ids back to numbers) and other instances’', () => {
    const ours = { jsonrpc: '2.0', id: `${me}:4`, result: { action: 'accept' } };
    const theirs = { jsonrpc: '2.0', id: `${other}:7`, error: { code: -1, message: 'no' } };
    const request = { jsonrpc: '2.0', id: 9, method: 'tools/list' };
    assert.deepEqual(splitInbound(ours, me), { local: { ...ours, id: 4 }, foreign: [] });
    assert.deepEqual(splitInbound(theirs, me), {
      local: undefined,
      foreign: [{ instanceId: other, message: theirs }],
    });
    assert.deepEqual(splitInbound([request, theirs], me), {
      local: [request],
      foreign: [{ instanceId: other, message: theirs }],
    });
    // Not routed ids (a client's own numbering, forged shapes) stay here for the SDK to judge.
    for (const id of [4, 'x:4', `${me}:`, `${me}:1e3`, `${me.toUpperCase()}:1`]) {
      const answer = { jsonrpc: '2.0', id, result: {} };
      assert.deepEqual(splitInbound(answer, me).foreign, [], String(id));
    }
    assert.equal(parseRoutedId(routedIdOf(me, 12))?.id, 12);
    assert.deepEqual(localAnswer({ jsonrpc: '2.0', id: `${other}:3`, result: {} } as never), {
      jsonrpc: '2.0',
      id: 3,
      result: {},
    });
    assert.equal(localAnswer({ jsonrpc: '2.0', id: 3, result: {} } as never), undefined);
  });
});
