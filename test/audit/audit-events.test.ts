/**
 * Issue 14, part 1: every audited event type is performed for real — through the pages, the token
 * endpoint, registration, the MCP admin tool or the `sekisho` CLI — and its record is then found in
 * storage with who, what, from where (IP, user agent) and never a secret. `sekisho audit` finds them
 * by user, client, type and time, as a table or JSON lines. Runs on the backend test servers use
 * (SQLite by default; SEKISHO_TEST_BACKEND=postgres); the storage contract covers both backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../src/audit/events.ts';
import { recordExpiredClients } from '../../src/audit/retention.ts';
import { runCli } from '../../src/cli/run.ts';
import type { AuditRecord } from '../../src/storage/types.ts';
import { browserlessLogin, CookieJar, parseForms } from '../helpers/browserless-login.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { authorizeUrl, pkce, refresh, registerClient, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ALICE_PASSWORD = 'alice-correct-horse-1';
const ROOT_PASSWORD = 'root-correct-horse-22';
const UA = 'AuditTest/1.0 (Sekisho tests)';

let srv: TestServer;
let aliceId: string;
let rootId: string;
/** Every record seen by the tests, for the final "no secrets" sweep. */
const secrets: string[] = [ALICE_PASSWORD, ROOT_PASSWORD];
const covered = new Set<AuditEventType>();

before(async () => {
  srv = await startTestServer({
    SEKISHO_REFRESH_REUSE_GRACE_SECONDS: '0',
    SEKISHO_LOGIN_ATTEMPTS_PER_ACCOUNT_IP: '3',
  });
  aliceId = (await srv.sekisho.identity.addUser({ username: 'alice', password: ALICE_PASSWORD })).id;
  rootId = (await srv.sekisho.identity.addUser({ username: 'root', password: ROOT_PASSWORD, role: 'admin' }))
    .id;
});
after(() => srv?.close());

/**
 * The newest record of `type` matching `where`, waiting (bounded) for records written after the
 * answer (oidc-provider's events are recorded as they fire).
 */
async function found(
  type: AuditEventType,
  where: (r: AuditRecord) => boolean = () => true,
): Promise<AuditRecord> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const match = (await srv.sekisho.storage.listAudit({ types: [type] })).find(where);
    if (match) {
      covered.add(type);
      return match;
    }
    if (Date.now() > deadline) {
      const recent = (await srv.sekisho.storage.listAudit({ limit: 20 })).map((r) => r.type);
      assert.fail(`no ${type} record found; recent: ${recent.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string> = { SEKISHO_LOG_LEVEL: 'silent', SEKISHO_DATA_DIR: srv.dataDir };
  if (srv.config.database) {
    env.SEKISHO_DATABASE_URL = srv.config.database.url;
    if (srv.config.database.schema) env.SEKISHO_DATABASE_SCHEMA = srv.config.database.schema;
  }
  const code = await runCli(args, {
    env,
    io: { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) },
  });
  return { code, stdout, stderr };
}

/** `cli`, failing with the command's stderr (its exit code alone does not say why). */
async function cliOk(args: string[]) {
  const run = await cli(args);
  assert.equal(run.code, 0, `sekisho ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run;
}

/** Signs in on the account page from a browser with our user agent; the jar holds the account cookie. */
async function accountSignIn(username: string, password: string, jar = new CookieJar()) {
  const page = await jar.fetch(`${srv.url}/account`, { headers: { 'user-agent': UA } });
  const form = parseForms(await page.text()).find((f) => f.action.endsWith('/account/login'));
  assert.ok(form, 'sign-in form');
  const res = await jar.fetch(new URL(form.action, srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA },
    body: new URLSearchParams({ ...form.fields, username, password }),
  });
  return { status: res.status, jar };
}

async function mcpAdminCall(args: Record<string, unknown>) {
  const issued = await srv.sekisho.authorizationServer!.issueAccessToken({
    accountId: rootId,
    scopes: ['mcp:tools', 'mcp:data', 'mcp:admin'],
  });
  secrets.push(issued.accessToken);
  return modernPost(
    srv.mcpUrl,
    'tools/call',
    { name: 'admin_panel', arguments: args },
    { headers: { authorization: `Bearer ${issued.accessToken}`, 'user-agent': UA } },
  );
}

describe('audit log: each event is recorded where it happens', () => {
  it('sign-in succeeded / failed (wrong password, unknown user) with IP and user agent', async () => {
    const ok = await accountSignIn('alice', ALICE_PASSWORD);
    assert.equal(ok.status, 303);
    const success = await found('signin.succeeded', (r) => r.userId === aliceId);
    assert.equal(success.outcome, 'success');
    assert.deepEqual(success.actor, { kind: 'user', id: aliceId });
    assert.equal(success.ip, '127.0.0.1');
    assert.equal(success.userAgent, UA);
    assert.equal(success.details.username, 'alice');

    assert.equal((await accountSignIn('alice', 'not-the-password')).status, 401);
    const wrong = await found('signin.failed', (r) => r.details.reason === 'wrong_password');
    assert.equal(wrong.outcome, 'failure');
    assert.equal(wrong.details.username, 'alice');
    assert.equal(wrong.userAgent, UA);
    assert.equal(JSON.stringify(wrong).includes('not-the-password'), false, 'the password is never recorded');

    assert.equal((await accountSignIn('nobody', 'whatever-pw')).status, 401);
    const unknown = await found('signin.failed', (r) => r.details.reason === 'unknown_user');
    assert.equal(unknown.userId, undefined);
  });

  it('sign-in throttled, naming the limit', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < 4; i++) await srv.sekisho.identity.authenticate('alice', 'wrong-guess', ip);
    const throttled = await found('signin.throttled', (r) => r.ip === ip);
    assert.equal(throttled.details.limit, 'username_ip');
    assert.equal(throttled.outcome, 'failure');
  });

  it('a disabled account: the right password fails as "disabled"; enabling is recorded as a change', async () => {
    await srv.sekisho.identity.addUser({ username: 'dora', password: 'dora-correct-horse-3' });
    const disabled = await srv.sekisho.identity.setDisabled('dora', true);
    const change = await found(
      'user.changed',
      (r) => r.userId === disabled.id && r.details.disabled === true,
    );
    assert.equal(change.actor.kind, 'system');
    assert.equal((await accountSignIn('dora', 'dora-correct-horse-3')).status, 401);
    await found('signin.failed', (r) => r.userId === disabled.id && r.details.reason === 'disabled');
    await srv.sekisho.identity.setDisabled('dora', false);
    await found('user.changed', (r) => r.userId === disabled.id && r.details.disabled === false);
    assert.equal((await accountSignIn('dora', 'dora-correct-horse-3')).status, 303);
  });

  it('consent given → grant issued; consent denied', async () => {
    const { client, tokens } = await signIn(srv.url, { username: 'alice', password: ALICE_PASSWORD });
    secrets.push(tokens.body.access_token, tokens.body.refresh_token);
    const consent = await found('consent.granted', (r) => r.clientId === client.client_id);
    assert.equal(consent.userId, aliceId);
    assert.deepEqual(consent.details.scopes, ['mcp:tools', 'mcp:data']);
    const issued = await found('grant.issued', (r) => r.clientId === client.client_id);
    assert.equal(issued.grantId, consent.grantId);
    assert.ok(issued.grantId);

    const other = await registerClient(srv.url, { client_name: 'Denied app' });
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, { clientId: other.client_id, challenge: pkce().challenge, resource: srv.mcpUrl }),
      { username: 'alice', password: ALICE_PASSWORD, consent: 'deny' },
    );
    assert.equal(flow.callback.searchParams.get('error'), 'access_denied');
    const denied = await found('consent.denied', (r) => r.clientId === other.client_id);
    assert.equal(denied.userId, aliceId);
    assert.equal(denied.outcome, 'failure');
  });

  it('grant widened by a step-up consent', async () => {
    const first = await signIn(srv.url, { username: 'root', password: ROOT_PASSWORD, remember: true });
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, {
        clientId: first.client.client_id,
        challenge: pkce().challenge,
        resource: srv.mcpUrl,
        scope: 'mcp:tools mcp:data mcp:admin',
      }),
      { username: 'root', password: ROOT_PASSWORD, jar: first.flow.jar },
    );
    assert.ok(flow.callback.searchParams.get('code'));
    const widened = await found('grant.widened', (r) => r.clientId === first.client.client_id);
    assert.deepEqual(widened.details.added, ['mcp:admin']);
    assert.equal(widened.userId, rootId);
  });

  it('refresh-token reuse detected → the grant revoked by reuse detection', async () => {
    const { client, tokens } = await signIn(srv.url, { username: 'alice', password: ALICE_PASSWORD });
    const old = tokens.body.refresh_token as string;
    secrets.push(old);
    assert.equal((await refresh(srv.url, { clientId: client.client_id, refreshToken: old })).status, 200);
    await new Promise((r) => setTimeout(r, 1100)); // past the (zero) grace window, to the next second
    assert.equal((await refresh(srv.url, { clientId: client.client_id, refreshToken: old })).status, 400);
    const reuse = await found('refresh_token.reused', (r) => r.clientId === client.client_id);
    assert.equal(reuse.outcome, 'failure');
    assert.equal(reuse.userId, aliceId);
    const revoked = await found('grant.revoked', (r) => r.clientId === client.client_id);
    assert.equal(revoked.details.by, 'reuse_detection');
    assert.equal(revoked.grantId, reuse.grantId);
  });

  it('grant revoked by the user on the account page', async () => {
    const { client } = await signIn(srv.url, { username: 'alice', password: ALICE_PASSWORD });
    const { jar } = await accountSignIn('alice', ALICE_PASSWORD);
    const page = await jar.fetch(`${srv.url}/account`, { headers: { 'user-agent': UA } });
    const form = parseForms(await page.text()).find(
      (f) => f.action.endsWith('/account/revoke') && f.fields.client_id === client.client_id,
    );
    assert.ok(form, 'a revoke form for the client');
    const res = await jar.fetch(new URL(form.action, srv.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA },
      body: new URLSearchParams(form.fields),
    });
    assert.equal(res.status, 303);
    const revoked = await found(
      'grant.revoked',
      (r) => r.clientId === client.client_id && r.details.by === 'user',
    );
    assert.deepEqual(revoked.actor, { kind: 'user', id: aliceId });
    assert.equal(revoked.userAgent, UA);
  });

  it('client registered (DCR) and expired unused', async () => {
    const client = await registerClient(srv.url, { client_name: 'Audit DCR' });
    const registered = await found('client.registered', (r) => r.clientId === client.client_id);
    assert.equal(registered.details.kind, 'dcr');
    assert.equal(registered.details.name, 'Audit DCR');
    assert.deepEqual(registered.actor, { kind: 'client', id: client.client_id });

    await srv.sekisho.storage.upsert(
      'Client',
      'idle-client',
      { client_id: 'idle-client', client_name: 'Idle' },
      1,
    );
    const deadline = Date.now() + 10_000;
    while ((await recordExpiredClients(srv.sekisho.storage, srv.sekisho.audit, 60)) === 0) {
      assert.ok(Date.now() < deadline, 'the client expires within its TTL');
      await new Promise((r) => setTimeout(r, 200));
    }
    const expired = await found('client.expired', (r) => r.clientId === 'idle-client');
    assert.equal(expired.details.name, 'Idle');
    assert.equal(expired.actor.kind, 'system');
  });

  it('admin tool actions, and a grant revoked through the admin tool', async () => {
    const stats = await mcpAdminCall({ action: 'user_stats' });
    assert.equal(stats.status, 200, stats.text);
    const action = await found('admin.action', (r) => r.details.action === 'user_stats');
    assert.deepEqual(action.actor, { kind: 'admin', id: rootId, name: 'root' });
    assert.equal(action.details.tool, 'admin_panel');
    assert.equal(action.userAgent, UA, JSON.stringify(action));

    const { client } = await signIn(srv.url, { username: 'alice', password: ALICE_PASSWORD });
    const [grant] = await srv.sekisho.authorizationServer!.listGrants({ clientId: client.client_id });
    assert.ok(grant);
    const revoke = await mcpAdminCall({ action: 'revoke_token', target: grant.grantId });
    assert.equal(revoke.status, 200, revoke.text);
    const revoked = await found('grant.revoked', (r) => r.grantId === grant.grantId);
    assert.equal(revoked.details.by, 'admin_tool');
    assert.equal(revoked.actor.id, rootId);
    await found('admin.action', (r) => r.details.action === 'revoke_token' && r.outcome === 'success');

    await mcpAdminCall({ action: 'revoke_token', target: 'zzzz-none' });
    await found(
      'admin.action',
      (r) => r.details.action === 'revoke_token' && r.details.reason === 'not_found',
    );
  });

  it('the CLI: user created, role changed, password changed, removed; client removed; grant revoked; key rotated — as the operator', async () => {
    await cliOk(['users', 'add', 'carol', '--password', 'carol-correct-horse-4']);
    const created = await found('user.created', (r) => r.details.username === 'carol');
    assert.equal(created.actor.kind, 'cli');
    assert.ok(created.actor.name, 'the OS account');
    await cliOk(['users', 'role', 'carol', 'admin']);
    const role = await found('user.role_changed', (r) => r.userId === created.userId);
    assert.deepEqual([role.details.from, role.details.to], ['user', 'admin']);
    await cliOk(['users', 'disable', 'carol']);
    const off = await found(
      'user.changed',
      (r) => r.userId === created.userId && r.details.disabled === true,
    );
    assert.equal(off.actor.kind, 'cli');
    assert.equal(
      (await srv.sekisho.identity.authenticate('carol', 'carol-correct-horse-4', '192.0.2.44')).ok,
      false,
    );
    await cliOk(['users', 'enable', 'carol']);
    await found('user.changed', (r) => r.userId === created.userId && r.details.disabled === false);
    const carolFlow = await signIn(srv.url, { username: 'carol', password: 'carol-correct-horse-4' });
    await cliOk(['users', 'passwd', 'carol', '--password', 'carol-new-horse-55']);
    await found('user.password_changed', (r) => r.userId === created.userId);
    const lifecycle = await found('grant.revoked', (r) => r.clientId === carolFlow.client.client_id);
    assert.equal(lifecycle.details.by, 'user_lifecycle');
    assert.equal(lifecycle.details.because, 'password_changed');
    await cliOk(['users', 'remove', 'carol']);
    await found('user.removed', (r) => r.userId === created.userId && r.actor.kind === 'cli');

    const { client } = await signIn(srv.url, { username: 'alice', password: ALICE_PASSWORD });
    const [grant] = await srv.sekisho.authorizationServer!.listGrants({ clientId: client.client_id });
    await cliOk(['grants', 'revoke', grant!.grantId]);
    const byCli = await found('grant.revoked', (r) => r.grantId === grant!.grantId);
    assert.equal(byCli.details.by, 'cli');
    assert.equal(byCli.actor.kind, 'cli');

    const doomed = await registerClient(srv.url, { client_name: 'Doomed' });
    await cliOk(['clients', 'remove', doomed.client_id]);
    const removed = await found('client.removed', (r) => r.clientId === doomed.client_id);
    assert.equal(removed.details.by, 'cli');

    await cliOk(['keys', 'rotate']);
    const rotated = await found('key.rotated');
    assert.equal(rotated.actor.kind, 'cli');
    assert.ok(rotated.details.kid);
    assert.ok(rotated.details.previousKid);
  });

  it('sekisho audit: filters by user, client, type and time; JSON lines; bad filters are usage errors', async () => {
    const json = await cli(['audit', '--user', 'alice', '--type', 'signin', '--since', '1h', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    assert.ok(lines.length >= 3);
    for (const r of lines) {
      assert.ok(r.type.startsWith('signin.'));
      assert.ok(r.userId === aliceId || r.actor.id === aliceId || r.details.username === 'alice');
    }
    const byClient = await cli(['audit', '--client', 'idle-client', '--json']);
    assert.deepEqual(
      byClient.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditRecord).type),
      ['client.expired'],
    );
    const table = await cli(['audit', '--type', 'key.rotated']);
    assert.match(table.stdout, /^TIME\s+TYPE\s+OUTCOME/);
    assert.match(table.stdout, /key\.rotated\s+success\s+cli:/);
    const future = await cli(['audit', '--since', '2999-01-01']);
    assert.match(future.stdout, /no audit records match/);

    for (const bad of [
      ['audit', '--type', 'nope'],
      ['audit', '--since', 'yesterday'],
      ['audit', '--limit', '-3'],
    ]) {
      const out = await cli(bad);
      assert.equal(out.code, 2, `${bad.join(' ')}: ${out.stderr}`);
    }
  });

  it('every event type was seen, and no record holds a password or token', async () => {
    assert.deepEqual(
      AUDIT_EVENT_TYPES.filter((t) => !covered.has(t)),
      [],
      'each event type has a test above',
    );
    const all = JSON.stringify(await srv.sekisho.storage.listAudit());
    for (const secret of secrets) assert.equal(all.includes(secret), false, 'a secret reached the audit log');
  });
});
