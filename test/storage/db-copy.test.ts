/**
 * One box becomes a cluster: a token issued by Sekisho on SQLite keeps working after `sekisho db copy`
 * on a Sekisho started on PostgreSQL (same base URL) — the access token calls a tool, the refresh
 * token rotates, the user signs in with the same password. A second copy into the now non-empty
 * database is refused and changes nothing. Also `sekisho db status|migrate` on both backends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/run.ts';
import { PG_MIGRATIONS } from '../../src/storage/postgres/migrations.ts';
import { freePort } from '../helpers/free-port.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { refresh, signIn } from '../helpers/oauth.ts';
import {
  adminQuery,
  freshSchema,
  postgresUnavailable,
  TEST_DATABASE_URL,
  type TestSchema,
} from '../helpers/postgres.ts';
import { startTestServer } from '../helpers/server.ts';

const skip = await postgresUnavailable();

async function cli(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: { SEKISHO_LOG_LEVEL: 'silent', ...env },
    io: { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) },
  });
  return { code, stdout, stderr };
}

describe('sekisho db copy: SQLite → PostgreSQL without signing in again', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'sekisho-copy-'));
  const dataDir = join(root, 'data');
  let schema: TestSchema;
  let base: Record<string, string>;
  const pgEnv = () => ({ SEKISHO_DATABASE_URL: TEST_DATABASE_URL, SEKISHO_DATABASE_SCHEMA: schema.name });

  before(async () => {
    schema = await freshSchema();
    const port = await freePort();
    // The issuer (and token audience) is the base URL: both servers must share it.
    base = { PORT: String(port), SEKISHO_BASE_URL: `http://localhost:${port}`, SEKISHO_DEMO: '1' };
  });
  after(async () => {
    await schema?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('copies every table; tokens, refresh and password work on PostgreSQL; a second copy is refused', async () => {
    const sqlite = await startTestServer({ ...base, SEKISHO_DATA_DIR: dataDir });
    let tokens: Awaited<ReturnType<typeof signIn>>;
    try {
      tokens = await signIn(
        sqlite.url,
        { username: 'demo', password: 'demo123' },
        { scope: 'mcp:tools offline_access' },
      );
      assert.equal(tokens.tokens.status, 200);
      assert.ok(tokens.tokens.body.refresh_token, 'a refresh token to carry over');
    } finally {
      await sqlite.close();
    }

    const copy = await cli(['db', 'copy', '--from', dataDir, '--to', TEST_DATABASE_URL, '--json'], {
      SEKISHO_DATABASE_SCHEMA: schema.name,
    });
    assert.equal(copy.code, 0, copy.stderr);
    const report = JSON.parse(copy.stdout) as { copied: Record<string, number>; to: string };
    assert.deepEqual(Object.keys(report.copied), [
      'users',
      'external_identities',
      'signing_keys',
      'oidc_models',
      'audit_log',
      'rate_limits',
    ]);
    assert.equal(report.copied.users, 3, 'the three demo users');
    assert.ok((report.copied.audit_log ?? 0) >= 3, 'the audit history moves too (sign-in, consent, grant)');
    assert.ok((report.copied.signing_keys ?? 0) >= 1);
    assert.ok((report.copied.oidc_models ?? 0) >= 4, 'client, grant, session, refresh token …');
    assert.doesNotMatch(copy.stdout + copy.stderr, /postgres:\/\/postgres@/, 'never prints the URL');
    const models = await adminQuery<{ model: string }>(
      `SELECT DISTINCT model FROM ${schema.name}.oidc_models`,
    );
    for (const m of ['Client', 'Grant', 'Session', 'RefreshToken']) {
      assert.ok(
        models.some((r) => r.model === m),
        `${m} rows copied`,
      );
    }

    const pg = await startTestServer({ ...base, ...pgEnv() });
    try {
      assert.equal((pg.sekisho.storage as { backend?: string }).backend, 'postgres');
      const call = await modernPost(
        pg.mcpUrl,
        'tools/call',
        { name: 'user_profile', arguments: {} },
        { headers: { authorization: `Bearer ${tokens.tokens.body.access_token}` } },
      );
      assert.equal(call.status, 200, call.text);
      assert.match(JSON.stringify(call.body?.result), /demo/);

      const rotated = await refresh(pg.url, {
        clientId: tokens.client.client_id,
        refreshToken: tokens.tokens.body.refresh_token,
      });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.ok(rotated.body.access_token);

      const again = await signIn(
        pg.url,
        { username: 'demo', password: 'demo123' },
        { client: tokens.client },
      );
      assert.equal(again.tokens.status, 200, 'the same password and client on PostgreSQL');
    } finally {
      await pg.close();
    }

    const second = await cli(['db', 'copy', '--from', dataDir], pgEnv());
    assert.equal(second.code, 1);
    assert.match(second.stderr, /not empty/);
  });

  it('db status and db migrate report the schema on both backends', async () => {
    const status = await cli(['db', 'status', '--json'], pgEnv());
    assert.equal(status.code, 0, status.stderr);
    const pg = JSON.parse(status.stdout) as {
      backend: string;
      current: number;
      latest: number;
      pending: unknown[];
    };
    assert.equal(pg.backend, 'postgres');
    assert.equal(pg.current, pg.latest);
    assert.deepEqual(pg.pending, []);
    const migrate = await cli(['db', 'migrate'], pgEnv());
    assert.equal(migrate.code, 0);
    assert.match(migrate.stdout, /nothing to apply/);

    const fresh = await freshSchema();
    try {
      const env = { SEKISHO_DATABASE_URL: TEST_DATABASE_URL, SEKISHO_DATABASE_SCHEMA: fresh.name };
      const before = await cli(['db', 'status'], env);
      assert.equal(before.code, 0, before.stderr);
      assert.match(before.stdout, /schema {4}0 /);
      assert.match(before.stdout, /pending {3}1 \(initial schema\)/);
      const applied = await cli(['db', 'migrate', '--json'], env);
      assert.equal(applied.code, 0, applied.stderr);
      assert.deepEqual(
        (JSON.parse(applied.stdout) as { applied: number[] }).applied,
        PG_MIGRATIONS.map((m) => m.version),
      );
    } finally {
      await fresh.drop();
    }

    const sqlite = await cli(['db', 'status', '--data-dir', dataDir], {});
    assert.equal(sqlite.code, 0, sqlite.stderr);
    assert.match(sqlite.stdout, /backend {3}sqlite/);
    assert.match(sqlite.stdout, /up to date/);
  });

  it('refuses bad copy arguments with a usage error, and a missing source with a failure', async () => {
    const badTo = await cli(['db', 'copy', '--from', dataDir, '--to', 'mysql://x/y'], {});
    assert.equal(badTo.code, 2);
    assert.match(badTo.stderr, /--to must be a postgres/);
    const noTarget = await cli(['db', 'copy', '--from', dataDir], {});
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.stderr, /PostgreSQL target/);
    const fresh = await freshSchema();
    try {
      const missing = await cli(['db', 'copy', '--from', join(root, 'nowhere')], {
        SEKISHO_DATABASE_URL: TEST_DATABASE_URL,
        SEKISHO_DATABASE_SCHEMA: fresh.name,
      });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no SQLite database/);
    } finally {
      await fresh.drop();
    }
  });
});
