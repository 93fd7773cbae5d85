/**
 * What keeps the gate's cache true to storage: bus events drop the right entries, a write by another
 * connection on the same SQLite file (another process: the CLI) is noticed within the stated bound
 * (≤ 1 s; the poll runs every 250 ms), and the trusted age follows what can announce changes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ANNOUNCED_MAX_AGE_MS,
  keepGateCacheFresh,
  trustedAgeMs,
  UNANNOUNCED_MAX_AGE_MS,
} from '../../src/cluster/gate-cache-freshness.ts';
import { createInProcessBus, type InvalidationBus } from '../../src/cluster/invalidation-bus.ts';
import { createGrantCache } from '../../src/resource/grant-cache.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { Storage } from '../../src/storage/types.ts';
import { freshSchema, postgresUnavailable, TEST_DATABASE_URL } from '../helpers/postgres.ts';

const root = mkdtempSync(join(tmpdir(), 'sekisho-gate-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** User u1 with grant g1 in `server`, and a gate cache over it kept fresh as the server keeps its own. */
async function cachedGrant(server: Storage, bus: InvalidationBus) {
  await server.createUser({
    id: 'u1',
    username: 'demo',
    name: 'Demo',
    email: 'd@example.com',
    role: 'user',
    passwordHash: 'x',
    createdAt: Date.now(),
  });
  await server.upsert('Grant', 'g1', { accountId: 'u1', clientId: 'c1' }, 600);
  const cache = createGrantCache({
    load: server.findGrantAndUser,
    maxEntries: 10,
    maxAgeMs: () => trustedAgeMs(bus, server),
  });
  return { cache, stop: keepGateCacheFresh(cache, { bus, storage: server }) };
}

describe('gate cache freshness', () => {
  it('bus events drop what they name: grant.revoked, user.changed, user.removed, bus.resumed', async () => {
    const bus = createInProcessBus();
    const calls: string[] = [];
    const stop = keepGateCacheFresh(
      {
        forgetGrant: (g) => calls.push(`grant:${g}`),
        forgetUser: (u) => calls.push(`user:${u}`),
        forgetAll: () => calls.push('all'),
      },
      { bus, storage: {} },
    );
    await bus.publish({ type: 'grant.revoked', grantId: 'g1' });
    await bus.publish({ type: 'user.changed', userId: 'u1' });
    await bus.publish({ type: 'user.removed', userId: 'u2' });
    await bus.publish({ type: 'keys.rotated' });
    await bus.publish({ type: 'bus.resumed' });
    assert.deepEqual(calls, ['grant:g1', 'user:u1', 'user:u2', 'all']);
    stop();
    await bus.publish({ type: 'grant.revoked', grantId: 'g2' });
    assert.equal(calls.length, 4, 'unsubscribed');
  });

  it("another connection's write on the same SQLite file empties the cache within 1 s", async () => {
    const dir = join(root, 'foreign');
    const server = openSqliteStorage({ dataDir: dir });
    const cli = openSqliteStorage({ dataDir: dir }); // what `sekisho grants revoke` opens
    const bus = createInProcessBus(); // no Redis: the CLI's events never reach the server
    try {
      const { cache, stop } = await cachedGrant(server, bus);
      try {
        assert.ok((await cache.findGrantAndUser('g1', 'u1')).grant);
        assert.equal(cache.size, 1);
        // Our own write (announced on our bus in the real server) does not count as foreign.
        await server.upsert('Session', 's1', {}, 60);
        await new Promise((r) => setTimeout(r, 400));
        assert.equal(cache.size, 1, 'own writes leave the cache alone');
        const revokedAt = Date.now();
        await cli.destroy('Grant', 'g1');
        while (cache.size > 0) {
          assert.ok(Date.now() - revokedAt < 1_000, 'noticed within 1 s');
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal((await cache.findGrantAndUser('g1', 'u1')).grant, undefined, 'the revocation is read');
      } finally {
        stop();
      }
    } finally {
      await cli.close();
      await server.close();
    }
  });

  it("PostgreSQL without Redis: another process's revocation is read within 1 s (the trusted age)", async (t) => {
    const unavailable = await postgresUnavailable();
    if (unavailable) return t.skip(unavailable);
    const schema = await freshSchema();
    const open = () => openPostgresStorage({ url: TEST_DATABASE_URL, schema: schema.name, poolSize: 2 });
    const server = await open();
    const cli = await open(); // another process's pool: its events stay in its own process
    const bus = createInProcessBus();
    try {
      const { cache, stop } = await cachedGrant(server, bus);
      try {
        assert.ok((await cache.findGrantAndUser('g1', 'u1')).grant);
        const reads = cache.stats.misses;
        assert.ok((await cache.findGrantAndUser('g1', 'u1')).grant);
        assert.equal(cache.stats.misses, reads, 'a hit: no query');
        await cli.destroy('Grant', 'g1');
        const revokedAt = Date.now();
        while ((await cache.findGrantAndUser('g1', 'u1')).grant !== undefined) {
          assert.ok(Date.now() - revokedAt < UNANNOUNCED_MAX_AGE_MS, 'stale at most 1 s');
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        stop();
      }
    } finally {
      await cli.close();
      await server.close();
      await schema.drop();
    }
  });

  it('trusts entries 30 s where changes are announced, 1 s where a foreign write could go unseen', () => {
    const local = { shared: false, connected: () => true };
    let up = true;
    const redis = { shared: true, connected: () => up };
    const sqlite = { dataVersion: () => 1 };
    const postgres = {};
    assert.equal(trustedAgeMs(local, sqlite), ANNOUNCED_MAX_AGE_MS, 'SQLite: data_version sees the CLI');
    assert.equal(trustedAgeMs(local, postgres), UNANNOUNCED_MAX_AGE_MS, 'PostgreSQL without Redis');
    assert.equal(trustedAgeMs(redis, postgres), ANNOUNCED_MAX_AGE_MS, 'Redis carries every instance');
    up = false;
    assert.equal(trustedAgeMs(redis, postgres), UNANNOUNCED_MAX_AGE_MS, 'Redis disconnected');
    assert.equal(trustedAgeMs(redis, sqlite), UNANNOUNCED_MAX_AGE_MS);
    assert.ok(UNANNOUNCED_MAX_AGE_MS <= 1_000, 'the bound docs/security.md states');
  });
});
