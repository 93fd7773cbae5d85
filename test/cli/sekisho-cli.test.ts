/** The `sekisho` bin, spawned for real against a temp data dir (what an operator runs). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/run.ts';
import { createIdentity } from '../../src/identity/users.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sekisho.js');
const root = mkdtempSync(join(tmpdir(), 'sekisho-cli-'));
const dataDir = join(root, 'data');
after(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[], input?: string, dir = dataDir) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: input ?? '',
    env: { ...process.env, SEKISHO_DATA_DIR: dir, SEKISHO_CONFIG_FILE: '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function inProcess(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: { SEKISHO_DATA_DIR: dataDir, ...env },
    io: { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) },
  });
  return { code, stdout, stderr };
}

async function withStorage<T>(fn: (s: ReturnType<typeof openSqliteStorage>) => Promise<T>): Promise<T> {
  const s = openSqliteStorage({ dataDir });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe('sekisho CLI', () => {
  before(() => {
    const r = cli(
      [
        'users',
        'add',
        'Alice',
        '--name',
        'Alice Liddell',
        '--email',
        'alice@example.com',
        '--password-stdin',
      ],
      'first-password\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^added alice \(user\) id usr_[A-Za-z0-9_-]{22}\n$/);
  });

  it('users list shows the new user, as a table and as JSON', () => {
    const table = cli(['users', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^USERNAME\s+ROLE\s+NAME\s+EMAIL\s+ID\s+CREATED\nalice\s+user\s+Alice Liddell\s+alice@example\.com\s+usr_/,
    );
    const json = cli(['users', 'list', '--json']);
    assert.equal(json.code, 0);
    const users = JSON.parse(json.stdout) as { username: string; role: string; passwordHash?: string }[];
    assert.deepEqual(
      users.map((u) => [u.username, u.role, 'passwordHash' in u]),
      [['alice', 'user', false]],
    );
  });

  it('users passwd changes the password the server authenticates against', async () => {
    const r = cli(['users', 'passwd', 'alice', '--password-stdin'], 'second-password\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'password changed for alice; their sessions are ended and grants revoked\n');
    await withStorage(async (storage) => {
      const identity = createIdentity({ storage });
      assert.equal((await identity.authenticate('alice', 'first-password', '127.0.0.1')).ok, false);
      assert.equal((await identity.authenticate('alice', 'second-password', '127.0.0.1')).ok, true);
    });
  });

  it('--password works for scripts but warns', async () => {
    const r = cli(['users', 'add', 'scripted', '--password', 'scripted-pass']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: --password exposes the password/);
    assert.equal(cli(['users', 'remove', 'scripted']).code, 0);
  });

  it('users role changes the role; an unknown role is a usage error', () => {
    const r = cli(['users', 'role', 'alice', 'admin']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'alice is now admin\n');
    assert.match(cli(['users', 'list']).stdout, /alice\s+admin/);
    const bad = cli(['users', 'role', 'alice', 'root']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'sekisho: role must be "admin" or "user"\n');
  });

  it('usage errors exit 2 with a clear message (spawned)', () => {
    const none = cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^Usage: sekisho <command>/);
    const noPassword = cli(['users', 'add', 'bob'], '');
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.stderr, /no password given: pipe it with --password-stdin/);
    const short = cli(['users', 'add', 'bob', '--password-stdin'], 'short\n');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /password must be at least 8 characters/);
  });

  it('usage errors exit 2 with a clear message (in process, no password read)', async () => {
    const cases: [string[], RegExp][] = [
      [['users', 'frobnicate'], /unknown command: users frobnicate/],
      [['users', 'add'], /users add takes <username>/],
      [['users', 'role', 'alice'], /users role takes <username> <role>/],
      [['users', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['users', 'add', 'bad name!', '--password-stdin'], /username must be 1–64 characters/],
      [['users', 'add', 'bob', '--email', 'nope', '--password-stdin'], /not an email address/],
      [['users', 'add', 'bob', '--role', 'root', '--password-stdin'], /role must be "admin" or "user"/],
      [
        ['users', 'add', 'bob', '--password-stdin', '--password', 'x'],
        /either --password-stdin or --password/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const r = await inProcess(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
      assert.equal(r.stdout, '');
    }
    const badEnv = await inProcess(['users', 'list'], { SEKISHO_LOG_LEVEL: 'loud' });
    assert.equal(badEnv.code, 2, 'bad configuration is a usage error');
    assert.match(badEnv.stderr, /SEKISHO_LOG_LEVEL/);
    const help = await inProcess(['users', 'add', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: sekisho users add <username>/);
  });

  it('operational failures exit 1: unknown user, duplicate user, missing database', () => {
    for (const args of [
      ['users', 'remove', 'ghost'],
      ['users', 'role', 'ghost', 'user'],
      ['users', 'passwd', 'ghost', '--password-stdin'],
    ]) {
      const r = cli(args, 'whatever-password');
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, 'sekisho: no such user: ghost\n');
    }
    const dup = cli(['users', 'add', 'ALICE', '--password-stdin'], 'another-password');
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr, 'sekisho: user alice already exists\n');
    const missing = cli(['users', 'list'], undefined, join(root, 'nowhere'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no database at .*nowhere.*sekisho\.db/);
  });

  it('clients and grants: list, revoke a grant (its tokens go), remove a client', async () => {
    const alice = await withStorage(async (s) => {
      const user = (await s.findUserByUsername('alice'))!;
      await s.upsert(
        'Client',
        'client-1',
        {
          client_id: 'client-1',
          client_name: 'Claude\u001b[2J',
          redirect_uris: ['http://127.0.0.1/cb'],
          token_endpoint_auth_method: 'none',
        },
        3600,
      );
      await s.upsert('Client', 'client-2', { client_id: 'client-2', client_name: 'Other' }, 3600);
      await s.upsert(
        'Grant',
        'grant-1',
        {
          accountId: user.id,
          clientId: 'client-1',
          openid: { scope: 'openid offline_access' },
          resources: { 'http://localhost/mcp': 'mcp:tools mcp:data mcp:admin' },
          rejected: { resources: { 'http://localhost/mcp': 'mcp:admin' } },
        },
        3600,
      );
      await s.upsert(
        'Grant',
        'grant-2',
        { accountId: user.id, clientId: 'client-2', resources: { 'http://localhost/mcp': 'mcp:tools' } },
        3600,
      );
      await s.upsert(
        'RefreshToken',
        'hashed-rt-1',
        { grantId: 'grant-1', accountId: user.id, clientId: 'client-1' },
        3600,
      );
      await s.upsert(
        'AccessToken',
        'hashed-at-2',
        { grantId: 'grant-2', accountId: user.id, clientId: 'client-2' },
        3600,
      );
      return user;
    });

    const clients = cli(['clients', 'list']);
    assert.equal(clients.code, 0, clients.stderr);
    assert.match(
      clients.stdout,
      /client-1\s+Claude\?\[2J\s+none\s+http:\/\/127\.0\.0\.1\/cb/,
      'control characters neutralised',
    );
    const grants = JSON.parse(cli(['grants', 'list', '--json', '--user', 'alice']).stdout) as {
      grantId: string;
      username: string;
      scopes: string[];
    }[];
    assert.deepEqual(
      grants.map((g) => [g.grantId, g.username, g.scopes]),
      [
        ['grant-1', 'alice', ['mcp:tools', 'mcp:data', 'openid', 'offline_access']],
        ['grant-2', 'alice', ['mcp:tools']],
      ],
    );
    assert.match(
      cli(['grants', 'list', '--client', 'client-2']).stdout,
      /grant-2\s+alice\s+Other \(client-2\)\s+mcp:tools/,
    );

    const revoked = cli(['grants', 'revoke', 'grant-1']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, 'revoked grant grant-1\n');
    assert.equal(cli(['grants', 'revoke', 'grant-1']).code, 1, 'already gone');

    const removed = cli(['clients', 'remove', 'client-2']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'removed client client-2; 1 grant(s) revoked\n');
    assert.equal(cli(['clients', 'remove', 'client-2']).code, 1);

    await withStorage(async (s) => {
      assert.equal(await s.find('Grant', 'grant-1'), undefined);
      assert.equal(await s.find('RefreshToken', 'hashed-rt-1'), undefined);
      assert.equal(await s.find('AccessToken', 'hashed-at-2'), undefined);
      assert.equal(await s.find('Client', 'client-2'), undefined);
      assert.ok(await s.find('Client', 'client-1'));
      assert.deepEqual(await s.list('Grant', { accountId: alice.id }), []);
    });
  });

  it('ids that start with "-" (one oidc-provider id in 64) are taken as ids, not options', async () => {
    // Grant and client ids are nanoids over A–Z a–z 0–9 _ -; parseArgs read `grants revoke -1…` as
    // the unknown option -1 (exit 2), which made test/audit/audit-events.test.ts fail now and then.
    const grantId = '-16A4cXVZdSANqg2kRg3gFh_3YzFqa5wVqsZrYbhiSW';
    const otherGrant = '--kq0_Vd1Zt8cRm4QW2yXbLp9sN7uEaHjG3oTfMiBv5';
    const clientId = '-hB3x_Zq9';
    await withStorage(async (s) => {
      const user = (await s.findUserByUsername('alice'))!;
      await s.upsert('Client', clientId, { client_id: clientId, client_name: 'Dash' }, 3600);
      for (const id of [grantId, otherGrant]) {
        await s.upsert('Grant', id, { accountId: user.id, clientId, openid: { scope: 'openid' } }, 3600);
      }
    });

    const listed = await inProcess(['grants', 'list', '--client', clientId, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { grantId: string }[]).map((g) => g.grantId).sort(),
      [grantId, otherGrant].sort(),
    );
    const revoked = await inProcess(['grants', 'revoke', grantId]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `revoked grant ${grantId}\n`);
    const again = await inProcess(['grants', 'revoke', grantId]);
    assert.equal(again.code, 1, 'already gone: a failure, not a usage error');
    assert.equal(again.stderr, `sekisho: no such grant: ${grantId}\n`);

    const audit = await inProcess(['audit', '--client', clientId, '--type', 'grant.revoked', '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    assert.equal((JSON.parse(audit.stdout) as { grantId: string }).grantId, grantId);

    // The spawned bin (what an operator runs), with an id that starts with "--".
    const spawned = cli(['grants', 'revoke', otherGrant]);
    assert.equal(spawned.code, 0, spawned.stderr);
    assert.equal(spawned.stdout, `revoked grant ${otherGrant}\n`);

    const removed = await inProcess(['clients', 'remove', clientId]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, `removed client ${clientId}; 0 grant(s) revoked\n`);

    // A mistyped option is still one (beside a dash id, parseArgs names the first of the two and says
    // to put ids after `--`), and a value-taking option before another option still asks for its value.
    for (const [args, pattern] of [
      [['users', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['grants', 'revoke', grantId, '-x'], /Unknown option '-1'.*after '--'/],
      [['audit', '--client', '--json'], /argument is ambiguous/],
    ] as const) {
      const r = await inProcess([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
  });

  it('keys rotate then keys list shows one active and one rotated key', () => {
    assert.equal(cli(['keys', 'rotate']).code, 0);
    const r = cli(['keys', 'rotate', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rotated = JSON.parse(r.stdout) as { kid: string; previousKid: string };
    const keys = JSON.parse(cli(['keys', 'list', '--json']).stdout) as { kid: string; status: string }[];
    assert.deepEqual(
      keys.map((k) => [k.kid, k.status]),
      [
        [rotated.kid, 'active'],
        [rotated.previousKid, 'rotated'],
      ],
    );
    assert.ok(!cli(['keys', 'list']).stdout.includes('"d"'));
  });

  it('users remove deletes the account', () => {
    const r = cli(['users', 'remove', 'alice']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'removed alice; its grants, tokens and sessions are revoked\n');
    assert.equal(cli(['users', 'list']).stdout, 'no users\n');
  });
});
