/**
 * Redis goes away under a running server, then comes back. Decided behaviour (docs/deployment.md):
 * /readyz answers 503 naming redis; routes whose throttles live in Redis (sign-in, registration)
 * answer 503 with Retry-After — never a 500 and never an unthrottled pass; bearer-authenticated
 * 2026-07-28 /mcp keeps working (it needs the database, not Redis) while opening a 2025-era session
 * (held in Redis) answers 503 with Retry-After; everything recovers by itself when Redis returns.
 * A private redis-server on a free port, so stopping it disturbs nobody else.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CookieJar, parseForms } from '../helpers/browserless-login.ts';
import { freePort } from '../helpers/free-port.ts';
import { legacyInitialize, legacyPost, modernPost } from '../helpers/mcp-http.ts';
import { authorizeUrl, pkce, registerClient, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
const skip = (() => {
  if (existsSync(REDIS_SERVER)) return undefined;
  const reason = `redis-server not found at ${REDIS_SERVER}`;
  if (process.env.CI === 'true') throw new Error(`${reason} — required in CI`);
  console.warn(`SKIPPING Redis outage tests: ${reason}`);
  return reason;
})();

let port: number;
let redis: ChildProcess | undefined;
let srv: TestServer;

async function startRedis(): Promise<void> {
  redis = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      (e: { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED',
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

function stopRedis(): Promise<void> {
  return new Promise((resolve) => {
    if (!redis || redis.exitCode !== null) return resolve();
    redis.once('exit', () => resolve());
    redis.kill('SIGKILL');
  });
}

async function readiness() {
  const res = await fetch(`${srv.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { failed?: string[] } };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`not within 10 s: ${what}`);
}

before(async () => {
  if (skip) return;
  port = await freePort();
  await startRedis();
  srv = await startTestServer({
    SEKISHO_DEMO: '1',
    SEKISHO_ANONYMOUS: '0',
    SEKISHO_REDIS_URL: `redis://127.0.0.1:${port}`,
    SEKISHO_REDIS_KEY_PREFIX: 'outage:',
  });
});
after(async () => {
  await srv?.close();
  await stopRedis();
});

describe('Redis down while serving, then back', { skip }, () => {
  it('readiness names redis, throttled routes answer 503 + Retry-After, bearer calls go on, and it all recovers', async () => {
    const signedIn = await signIn(srv.url, { username: 'demo', password: 'demo123' });
    const token = signedIn.tokens.body.access_token as string;
    assert.equal((await readiness()).status, 200);

    // A sign-in is on its login page when Redis goes away.
    const client = await registerClient(srv.url);
    const jar = new CookieJar();
    const auth = await jar.fetch(
      authorizeUrl(srv.url, {
        clientId: client.client_id,
        challenge: pkce().challenge,
        state: 's',
        resource: srv.mcpUrl,
      }),
    );
    const loginPage = new URL(auth.headers.get('location')!, srv.url);
    const form = parseForms(await (await jar.fetch(loginPage)).text()).find((f) =>
      f.action.endsWith('/login'),
    )!;
    await stopRedis();

    await until(async () => (await readiness()).status === 503, '/readyz 503');
    assert.deepEqual((await readiness()).body.failed, ['redis']);

    const login = await jar.fetch(new URL(form.action, srv.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ ...form.fields, username: 'demo', password: 'demo123' }).toString(),
    });
    assert.equal(login.status, 503, 'the login throttle cannot count: no sign-in without it');
    assert.ok(Number(login.headers.get('retry-after')) > 0);
    assert.match(await login.text(), /temporarily_unavailable/);

    const registration = await fetch(`${srv.url}/oauth/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(registration.status, 503);
    assert.ok(Number(registration.headers.get('retry-after')) > 0);
    assert.equal(((await registration.json()) as { error: string }).error, 'temporarily_unavailable');

    const call = await modernPost(
      srv.mcpUrl,
      'tools/list',
      {},
      { headers: { authorization: `Bearer ${token}` } },
    );
    assert.equal(call.status, 200, 'signed-in 2026-07-28 clients keep working without Redis');
    // 2025-era sessions live in Redis: opening one waits for it, with a clear 503 (never a 500).
    const opening = await legacyPost(srv.mcpUrl, legacyInitialize(1), {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(opening.status, 503, opening.text);
    assert.ok(Number(opening.headers.get('retry-after')) > 0);

    await startRedis();
    await until(async () => (await readiness()).status === 200, '/readyz 200 again');
    const again = await signIn(srv.url, { username: 'demo', password: 'demo123' });
    assert.equal(again.tokens.status, 200, 'sign-in works again without a restart');
  });
});
