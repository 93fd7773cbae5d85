/**
 * The PostgreSQL backend: the shared storage contract in a fresh schema per run, plus what only a
 * shared server can show — migrations raced by three instances, consume-once and rotation across
 * pools, the start-up retry, and bounded failures.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadSigningKeys } from '../../src/oauth/keys.ts';
import { deriveSecrets } from '../../src/oauth/secrets.ts';
import { SchemaVersionError, StorageUnavailableError } from '../../src/storage/errors.ts';
import { openPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/index.ts';
import { migratePostgres, PG_MIGRATIONS } from '../../src/storage/postgres/migrations.ts';
import { runStorageContract } from '../contract/storage.contract.ts';
import { adminQuery, freshSchema, postgresUnavailable, TEST_DATABASE_URL } from '../helpers/postgres.ts';

const skip = await postgresUnavailable();
const schema = skip ? undefined : await freshSchema();
after(() => schema?.drop());

const open = (opts: { now?: () => number; schema?: string; migrate?: boolean } = {}) =>
  openPostgresStorage({ url: TEST_DATABASE_URL, schema: schema?.name, poolSize: 4, ...opts });

if (skip) {
  describe('Storage contract: postgres', () => {
    it.skip(`PostgreSQL unavailable: ${skip}`);
  });
} else {
  runStorageContract('postgres', async ({ now }) => {
    const s = await open({ now });
    // Each contract test starts from empty tables (the schema is migrated once, then reused).
    await s.pool.query(
      'TRUNCATE oidc_models, users, external_identities, signing_keys, rate_limits, audit_log',
    );
    return s;
  });
}

describe('PostgreSQL storage specifics', { skip }, () => {
  it('three instances opening a fresh schema together apply each migration exactly once', async () => {
    const fresh = await freshSchema();
    try {
      const instances = await Promise.all([0, 1, 2].map(() => open({ schema: fresh.name })));
      try {
        const rows = await adminQuery<{ version: number }>(
          `SELECT version FROM ${fresh.name}.schema_migrations ORDER BY version`,
        );
        assert.deepEqual(
          rows.map((r) => r.version),
          PG_MIGRATIONS.map((m) => m.version),
        );
        for (const s of instances)
          assert.deepEqual(await s.schemaStatus(), {
            current: PG_MIGRATIONS.length,
            latest: PG_MIGRATIONS.length,
            pending: [],
          });
        assert.deepEqual(await instances[0]!.migrate(), [], 'nothing left to apply');
      } finally {
        await Promise.all(instances.map((s) => s.close()));
      }
    } finally {
      await fresh.drop();
    }
  });

  it('the advisory lock serialises a slow migration: without it the racers would collide', async () => {
    const fresh = await freshSchema();
    // CREATE TABLE without IF NOT EXISTS after a sleep: a second runner not waiting on the lock would
    // fail with "relation already exists" (or a unique violation on the ledger).
    const slow = [
      { version: 1, name: 'slow', sql: 'SELECT pg_sleep(0.3); CREATE TABLE slow_step (id int)' },
      { version: 2, name: 'next', sql: 'CREATE TABLE next_step (id int)' },
    ];
    const pools = [0, 1, 2].map(() => open({ schema: fresh.name, migrate: false }));
    const opened = await Promise.all(pools);
    try {
      const applied = await Promise.all(
        opened.map((s) => migratePostgres(s.pool, { schema: fresh.name, migrations: slow })),
      );
      assert.deepEqual(
        applied.map((a) => a.join(',')).sort(),
        ['', '', '1,2'],
        'one runner applied both steps, the others found nothing to do',
      );
    } finally {
      await Promise.all(opened.map((s) => s.close()));
      await fresh.drop();
    }
  });

  it('refuses a schema written by a newer Sekisho', async () => {
    const fresh = await freshSchema();
    try {
      const s = await open({ schema: fresh.name });
      await s.pool.query(
        `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`,
      );
      await s.close();
      await assert.rejects(open({ schema: fresh.name }), SchemaVersionError);
    } finally {
      await fresh.drop();
    }
  });

  it('consume-once and key rotation hold across instances (separate pools)', async () => {
    const a = await open();
    const b = await open();
    try {
      await a.pool.query('TRUNCATE oidc_models, signing_keys');
      await a.upsert('RefreshToken', 'rt-x', { grantId: 'g' }, 600);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume('RefreshToken', 'rt-x')),
      );
      assert.equal(results.filter(Boolean).length, 1);

      // Both instances find no key and create a first one at the same moment: one ends up active.
      const key = (kid: string) => ({ kid, privateJwk: { kid }, createdAt: 1, rotatedAt: undefined });
      await Promise.all([a.rotateKeys(key('ka'), 10), b.rotateKeys(key('kb'), 10)]);
      const keys = await a.listKeys();
      assert.equal(keys.length, 2);
      assert.equal(keys.filter((k) => k.rotatedAt === undefined).length, 1, 'exactly one active key');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('three instances starting on an empty database sign with the same first key', async () => {
    const fresh = await freshSchema();
    const instances = await Promise.all([0, 1, 2].map(() => open({ schema: fresh.name })));
    try {
      const loaded = await Promise.all(instances.map((s) => loadSigningKeys(s, { overlapSeconds: 3600 })));
      assert.equal(new Set(loaded.map((k) => k.active.kid)).size, 1, 'one active key for all');
      assert.equal((await instances[0]!.listKeys()).length, 1, 'and only one key was created');
      // Cookie and CSRF keys derive from the signing keys: equal everywhere, so a login page served
      // by one instance can be posted to another.
      const csrf = loaded.map((k) => deriveSecrets(k.jwks).csrfToken('login', 'uid-1'));
      assert.equal(new Set(csrf).size, 1);
    } finally {
      await Promise.all(instances.map((s) => s.close()));
      await fresh.drop();
    }
  });

  it('stores payloads as given: NUL escapes and non-ASCII text round-trip exactly', async () => {
    const s = await open();
    try {
      const payload = { client_id: 'c-nul', client_name: 'a\u0000b 関所 \u{1F510}', n: 1.5 };
      await s.upsert('Client', 'c-nul', payload, undefined);
      assert.deepEqual(await s.find('Client', 'c-nul'), payload);
    } finally {
      await s.close();
    }
  });

  it('an unreachable server: bounded retry at open, then StorageUnavailableError naming the key', async () => {
    const started = Date.now();
    await assert.rejects(
      openPostgresStorage({
        url: 'postgres://postgres:secret-pw@127.0.0.1:1/test',
        startupTimeoutSeconds: 1,
        connectTimeoutMs: 500,
      }),
      (error: unknown) => {
        assert.ok(error instanceof StorageUnavailableError);
        assert.match(error.message, /SEKISHO_DATABASE_URL/);
        assert.match(error.message, /127\.0\.0\.1:1\/test/);
        assert.doesNotMatch(error.message, /secret-pw/);
        return true;
      },
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 10_000, `retried for about the budget (${elapsed} ms)`);
  });

  it('a wrong database name fails at once, without retrying', async () => {
    const started = Date.now();
    await assert.rejects(
      openPostgresStorage({ url: `${TEST_DATABASE_URL}_no_such_db`, startupTimeoutSeconds: 30 }),
      (error: unknown) => !(error instanceof StorageUnavailableError),
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it('ping rejects once closed; close is idempotent', async () => {
    const s: PostgresStorage = await open();
    await s.ping();
    await s.close();
    await s.close();
    await assert.rejects(s.ping());
  });
});
