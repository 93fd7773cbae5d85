/** The SQLite backend: the shared storage contract, plus what only a file database can show. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SchemaVersionError } from '../../src/storage/errors.ts';
import { openSqliteStorage, WAL_AUTOCHECKPOINT_PAGES } from '../../src/storage/sqlite/index.ts';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/storage/sqlite/migrations.ts';
import { createSqliteOidcStore } from '../../src/storage/sqlite/oidc-store.ts';
import { runStorageContract } from '../contract/storage.contract.ts';

const root = mkdtempSync(join(tmpdir(), 'sekisho-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

runStorageContract('sqlite :memory:', ({ now }) => openSqliteStorage({ path: ':memory:', now }));
runStorageContract('sqlite file (WAL)', ({ now }) =>
  openSqliteStorage({ dataDir: join(root, `c${n++}`), now }),
);

describe('SQLite storage specifics', () => {
  it('sweep deletes ended rate-limit windows (one row each) and keeps live ones', async () => {
    let t = Date.UTC(2030, 0, 1);
    const s = openSqliteStorage({ path: ':memory:', now: () => t });
    try {
      await s.hit('a', 60);
      await s.hit('b', 3600);
      t += 60_000;
      assert.equal(await s.sweep(), 1);
      assert.equal(await s.peek('b', 3600), 1);
    } finally {
      await s.close();
    }
  });

  it('creates the data dir (0700) and sekisho.db (0600) in WAL mode', async () => {
    const dir = join(root, 'fresh', 'nested');
    const s = openSqliteStorage({ dataDir: dir });
    try {
      assert.equal(s.file, join(dir, 'sekisho.db'));
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(s.file).mode & 0o777, 0o600);
      assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(s.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(s.db.pragma('busy_timeout', { simple: true }), 5000);
      // NORMAL (1): no fsync per commit in WAL mode; checkpoints every 10,000 pages, not 1,000.
      assert.equal(s.db.pragma('synchronous', { simple: true }), 1);
      assert.equal(s.db.pragma('wal_autocheckpoint', { simple: true }), WAL_AUTOCHECKPOINT_PAGES);
    } finally {
      await s.close();
    }
  });

  it('closing the last connection checkpoints the raised WAL and removes it', async () => {
    const dir = join(root, 'wal-close');
    const s = openSqliteStorage({ dataDir: dir });
    for (let i = 0; i < 500; i++) await s.upsert('RefreshToken', `id-${i}`, { accountId: 'u', n: i }, 3600);
    assert.ok(statSync(`${s.file}-wal`).size > 0, 'writes stay in the WAL below the checkpoint mark');
    await s.close();
    assert.throws(() => statSync(`${join(dir, 'sekisho.db')}-wal`), /ENOENT/);
    const again = openSqliteStorage({ dataDir: dir });
    try {
      assert.equal((await again.find('RefreshToken', 'id-499'))?.n, 499);
    } finally {
      await again.close();
    }
  });

  it('data survives close and reopen; migrations are idempotent across reopen', async () => {
    const dir = join(root, 'reopen');
    const first = openSqliteStorage({ dataDir: dir });
    assert.equal(schemaVersion(first.db), MIGRATIONS.length);
    await first.upsert('Client', 'c1', { client_id: 'c1', client_name: 'Kept' }, undefined);
    await first.createUser({
      id: 'usr_1',
      username: 'kept',
      name: 'Kept',
      email: 'k@example.com',
      role: 'user',
      passwordHash: 'scrypt$z',
      createdAt: 1,
    });
    await first.addKey({ kid: 'k1', privateJwk: { kty: 'EC' }, createdAt: 1, rotatedAt: undefined });
    await first.close();
    await first.close(); // idempotent

    const second = openSqliteStorage({ dataDir: dir });
    try {
      assert.deepEqual(await second.find('Client', 'c1'), { client_id: 'c1', client_name: 'Kept' });
      assert.equal((await second.findUserByUsername('kept'))?.id, 'usr_1');
      assert.deepEqual(
        (await second.listKeys()).map((k) => k.kid),
        ['k1'],
      );
      const rows = second.db.prepare('SELECT version FROM schema_migrations').all();
      assert.equal(rows.length, MIGRATIONS.length, 'each migration recorded once');
      assert.deepEqual(migrate(second.db), [], 'nothing left to apply');
    } finally {
      await second.close();
    }
  });

  it('migration 4 rebuilds oidc_models as a rowid table with every row, column and index kept', async () => {
    const dir = join(root, 'v3');
    const file = join(dir, 'sekisho.db');
    const t = Date.UTC(2030, 0, 1);
    mkdirSync(dir);
    const v3 = new Database(file);
    migrate(
      v3,
      undefined,
      MIGRATIONS.filter((m) => m.version <= 3),
    );
    const old = createSqliteOidcStore(v3, () => t);
    await old.upsert(
      'Grant',
      'g1',
      { accountId: 'usr_1', clientId: 'c1', openid: { scope: 'openid' } },
      3600,
    );
    await old.upsert('RefreshToken', 'rt1', { grantId: 'g1', accountId: 'usr_1', clientId: 'c1' }, 600);
    await old.upsert('RefreshToken', 'rt2', { grantId: 'g1' }, 600);
    assert.equal(await old.consume('RefreshToken', 'rt2'), true);
    await old.upsert('Interaction', 'i1', { uid: 'u-1' }, 60);
    await old.upsert('DeviceCode', 'd1', { userCode: 'ABCD-EFGH', grantId: 'g2' }, 60);
    await old.upsert('Client', 'c1', { client_id: 'c1' }, undefined);
    const before = v3.prepare('SELECT * FROM oidc_models ORDER BY model, id').all();
    v3.close();

    const s = openSqliteStorage({ dataDir: dir, now: () => t });
    try {
      assert.equal(schemaVersion(s.db), 4);
      assert.deepEqual(s.db.prepare('SELECT * FROM oidc_models ORDER BY model, id').all(), before);
      const ddl = (
        s.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'oidc_models'").get() as { sql: string }
      ).sql;
      assert.doesNotMatch(ddl, /WITHOUT ROWID/i);
      const indexes = (
        s.db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'oidc_models' AND sql IS NOT NULL",
          )
          .all() as { name: string }[]
      ).map((r) => r.name);
      assert.deepEqual(indexes.sort(), [
        'oidc_models_account',
        'oidc_models_client',
        'oidc_models_expires',
        'oidc_models_grant',
        'oidc_models_ucode',
        'oidc_models_uid',
      ]);
      // The rows still behave: consume-once, lookups by uid and user code, owner lists, revocation.
      assert.equal(typeof (await s.find('RefreshToken', 'rt2'))?.consumed, 'number');
      assert.equal(await s.consume('RefreshToken', 'rt2'), false);
      assert.equal(await s.consume('RefreshToken', 'rt1'), true);
      assert.equal((await s.findByUid('Interaction', 'u-1'))?.uid, 'u-1');
      assert.equal((await s.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.grantId, 'g2');
      assert.deepEqual(
        (await s.list('Grant', { accountId: 'usr_1' })).map((r) => r.id),
        ['g1'],
      );
      await s.revokeByGrantId('g1');
      assert.equal(await s.find('RefreshToken', 'rt1'), undefined, "the grant's tokens went with it");
      assert.equal((await s.find('Client', 'c1'))?.client_id, 'c1');
    } finally {
      await s.close();
    }
  });

  it('refuses a database written by a newer schema', async () => {
    const dir = join(root, 'future');
    const s = openSqliteStorage({ dataDir: dir });
    s.db
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)')
      .run('future');
    await s.close();
    assert.throws(() => openSqliteStorage({ dataDir: dir }), SchemaVersionError);
  });

  it('two connections on one file: consume-once holds across processes-worth of handles', async () => {
    const dir = join(root, 'shared');
    const a = openSqliteStorage({ dataDir: dir });
    const b = openSqliteStorage({ dataDir: dir });
    try {
      await a.upsert('RefreshToken', 'rt', { grantId: 'g' }, 600);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume('RefreshToken', 'rt')),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(typeof (await b.find('RefreshToken', 'rt'))?.consumed, 'number');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("dataVersion moves when another connection commits, not on this connection's own writes", async () => {
    const dir = join(root, 'versions');
    const a = openSqliteStorage({ dataDir: dir });
    const b = openSqliteStorage({ dataDir: dir });
    try {
      const seen = a.dataVersion!();
      await a.upsert('Grant', 'g', { accountId: 'u' }, 600);
      assert.equal(a.dataVersion!(), seen, 'own write: the bus tells this process, not data_version');
      await b.destroy('Grant', 'g');
      assert.notEqual(a.dataVersion!(), seen, "another connection's write is visible");
      const after = a.dataVersion!();
      await b.find('Grant', 'g');
      assert.equal(a.dataVersion!(), after, 'reads do not move it');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('ping fails once closed', async () => {
    const s = openSqliteStorage({ path: ':memory:' });
    await s.ping();
    await s.close();
    await assert.rejects(s.ping());
  });
});
