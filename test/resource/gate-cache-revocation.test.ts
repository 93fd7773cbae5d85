/**
 * Revocation with the gate's cache on, on one box (SQLite, no Redis): every way a token's standing
 * changes is refused or applied on the very next request although that request would otherwise be a
 * cache hit — the admin console revoking a grant, a role lowered, an account disabled or removed —
 * and the `sekisho` CLI, another process whose events never reach this one, is noticed within 1 s.
 * Every check first proves the token is being served from the cache (a hit, no storage read).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { modernPost } from '../helpers/mcp-http.ts';
import { startTestServer, type TestServer, testBackend } from '../helpers/server.ts';
import { type TrustedTokens, trustTestKeys } from '../helpers/trusted-tokens.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sekisho.js');

let srv: TestServer;
let tokens: TrustedTokens;

before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  tokens = await trustTestKeys(srv, 'gate-cache');
  await srv.sekisho.resource.verifier.reloadKeys(); // the test key, before the first request
});
after(() => srv.close());

const call = (token: string, name = 'hello_world') =>
  modernPost(
    srv.mcpUrl,
    'tools/call',
    { name, arguments: {} },
    { headers: { authorization: `Bearer ${token}` } },
  );
const toolNames = async (token: string) => {
  const res = await modernPost(
    srv.mcpUrl,
    'tools/list',
    {},
    { headers: { authorization: `Bearer ${token}` } },
  );
  assert.equal(res.status, 200, res.text);
  return ((res.body?.result?.tools ?? []) as { name: string }[]).map((t) => t.name);
};
const grantOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { gid: string }).gid;

/** Calls twice and proves the second call was answered from the cache (no storage read). */
async function warm(token: string, name = 'hello_world') {
  assert.equal((await call(token, name)).status, 200);
  const cache = srv.sekisho.gateCache!;
  const misses = cache.stats.misses;
  const hits = cache.stats.hits;
  assert.equal((await call(token, name)).status, 200);
  assert.equal(cache.stats.misses, misses, 'no storage read');
  assert.ok(cache.stats.hits > hits, 'served from the cache');
}

async function newUser(username: string, role: 'admin' | 'user') {
  const user = await srv.sekisho.identity.addUser(
    {
      username,
      password: 'a long enough password 1',
      name: username,
      email: `${username}@example.com`,
      role,
    },
    { allowWeakPassword: true },
  );
  tokens.users[username] = user.id;
  return user;
}

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SEKISHO_DATA_DIR: srv.dataDir },
        timeout: 30_000,
      },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

describe('gate cache: revocation on one box', () => {
  it('is on by default', () => {
    assert.ok(srv.sekisho.gateCache);
  });

  it('a grant revoked in the admin console → 401 on the next request', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    await warm(token);
    assert.ok(await srv.sekisho.authorizationServer!.revokeGrant(grantOf(token)));
    const after = await call(token);
    assert.equal(after.status, 401);
    assert.match(after.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  it('a role lowered → the admin tool is gone on the next request; raised again → back', async () => {
    await newUser('cache-admin', 'admin');
    const token = await tokens.token('cache-admin', 'mcp:tools mcp:admin');
    assert.ok((await toolNames(token)).includes('admin_panel'));
    await warm(token);
    await srv.sekisho.identity.setRole('cache-admin', 'user');
    assert.ok(!(await toolNames(token)).includes('admin_panel'), 'hidden at once');
    await srv.sekisho.identity.setRole('cache-admin', 'admin');
    assert.ok((await toolNames(token)).includes('admin_panel'));
  });

  it('an account disabled, then removed → 401 on the next request', async () => {
    const user = await newUser('cache-disabled', 'user');
    const token = await tokens.token('cache-disabled', 'mcp:tools');
    await warm(token);
    // Straight through storage: only the user.changed event stands between the cache and a stale pass.
    await srv.sekisho.storage.updateUser(user.id, { disabledAt: Date.now() });
    assert.equal((await call(token)).status, 401);
    await srv.sekisho.storage.updateUser(user.id, { disabledAt: null });
    await warm(token);
    await srv.sekisho.storage.deleteUser(user.id);
    const after = await call(token);
    assert.equal(after.status, 401);
    assert.match(after.headers.get('www-authenticate') ?? '', /no longer exists/);
  });

  it('`sekisho grants revoke` in another process → refused within 1 s (PRAGMA data_version)', {
    skip:
      testBackend() === 'postgres' ? 'SQLite only (PostgreSQL: see gate-cache-freshness tests)' : undefined,
  }, async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    await warm(token);
    await cli(['grants', 'revoke', grantOf(token)]);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200) {
      assert.ok(Date.now() - revokedAt < 1_000, 'refused within 1 s of the CLI finishing');
      status = (await call(token)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 401);
  });

  it('`sekisho users role` in another process → the lower role applies within 1 s', {
    skip: testBackend() === 'postgres' ? 'SQLite only' : undefined,
  }, async () => {
    await newUser('cache-cli-admin', 'admin');
    const token = await tokens.token('cache-cli-admin', 'mcp:tools mcp:admin');
    await warm(token);
    await cli(['users', 'role', 'cache-cli-admin', 'user']);
    const changedAt = Date.now();
    while ((await toolNames(token)).includes('admin_panel')) {
      assert.ok(Date.now() - changedAt < 1_000, 'applied within 1 s of the CLI finishing');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

describe('gate cache turned off (SEKISHO_GATE_CACHE_SIZE=0)', () => {
  let off: TestServer;
  before(async () => {
    off = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_GATE_CACHE_SIZE: '0' });
  });
  after(() => off.close());

  it('has no cache and still refuses a revoked grant', async () => {
    assert.equal(off.sekisho.gateCache, undefined);
    const offTokens = await trustTestKeys(off, 'gate-cache-off');
    await off.sekisho.resource.verifier.reloadKeys();
    const token = await offTokens.token('demo', 'mcp:tools');
    const post = () =>
      modernPost(
        off.mcpUrl,
        'tools/call',
        { name: 'hello_world', arguments: {} },
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
    assert.equal((await post()).status, 200);
    await off.sekisho.storage.destroy('Grant', grantOf(token));
    assert.equal((await post()).status, 401);
  });
});
