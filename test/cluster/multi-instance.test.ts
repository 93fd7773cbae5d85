/**
 * Issue 10, the real thing: three Sekisho processes (own ports, own empty SEKISHO_DATA_DIR, one
 * PostgreSQL schema, one Redis prefix) behind Debian nginx (round robin, retry on connect failure),
 * SEKISHO_BASE_URL = the proxy. Through it: a sign-in that hops instances at every step, the official
 * v2 client's whole OAuth flow with a Chromium login, step-up, refresh, revocation on one instance seen
 * by the others on the next request, a key rotated by the CLI taken up by every instance, and one
 * instance SIGKILLed under load — no request that reached a live instance fails and no acknowledged
 * write is lost. The figures are printed at the end (requests, instances killed, failures).
 *
 * Needs nginx, PostgreSQL, Redis and Chromium: skips loudly without them, fails under CI=true.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import {
  connect,
  type Exchange,
  finishAuth,
  isUnauthorized,
  type Session,
  text,
} from '../e2e/support/mcp-clients.ts';
import { MemoryOAuthProvider } from '../e2e/support/oauth-provider.ts';
import {
  authorizeInBrowser,
  browserUnavailable,
  type Credentials,
  launchBrowser,
  startCallbackServer,
} from '../helpers/browser.ts';
import { browserlessLogin, CookieJar } from '../helpers/browserless-login.ts';
import { DEMO_ADMIN_TOOLS } from '../helpers/expected-tools.ts';
import { freePort } from '../helpers/free-port.ts';
import {
  LEGACY_VERSION,
  legacyInitialize,
  legacyPost,
  MODERN_VERSION,
  modernEnvelope,
} from '../helpers/mcp-http.ts';
import {
  authorizeUrl,
  DEFAULT_REDIRECT,
  exchangeCode,
  pkce,
  refresh,
  registerClient,
} from '../helpers/oauth.ts';
import {
  adminQuery,
  freshSchema,
  postgresUnavailable,
  TEST_DATABASE_URL,
  type TestSchema,
} from '../helpers/postgres.ts';
import { dropPrefix, freshPrefix, redisUnavailable, TEST_REDIS_URL } from '../helpers/redis.ts';
import { type Instance, runCli, startInstance } from './support/instances.ts';
import { type NginxProxy, nginxUnavailable, startNginx } from './support/nginx.ts';

const skip =
  nginxUnavailable() ?? browserUnavailable() ?? (await postgresUnavailable()) ?? (await redisUnavailable());

const DEMO: Credentials = { username: 'demo', password: 'demo123' };
const ADMIN: Credentials = { username: 'admin', password: 'admin123' };

let dir: string;
let schema: TestSchema;
let prefix: string;
let env: Record<string, string>;
let instances: Instance[] = [];
let proxy: NginxProxy;
let base: string;
let browser: Browser;
let callback: Awaited<ReturnType<typeof startCallbackServer>>;
const figures = {
  requests: 0,
  instancesKilled: 0,
  failures: 0,
  refusedAtKilled: 0,
  writesAcknowledged: 0,
  writesLost: 0,
};

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sekisho-cluster-'));
  schema = await freshSchema();
  prefix = freshPrefix('cluster');
  const [p1, p2, p3, pp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  base = `http://127.0.0.1:${pp}`;
  env = {
    SEKISHO_BASE_URL: base,
    SEKISHO_DATABASE_URL: TEST_DATABASE_URL,
    SEKISHO_DATABASE_SCHEMA: schema.name,
    SEKISHO_REDIS_URL: TEST_REDIS_URL,
    SEKISHO_REDIS_KEY_PREFIX: prefix,
    SEKISHO_DEMO: '1',
    SEKISHO_ANONYMOUS: '0',
    SEKISHO_LOG_LEVEL: 'warn',
    SEKISHO_REGISTRATIONS_PER_HOUR: '100000',
    SEKISHO_SHUTDOWN_GRACE_MS: '1000',
  };
  // All three start together: migrations run once under the advisory lock, demo users seed once.
  instances = await Promise.all(
    [p1!, p2!, p3!].map((port, i) => startInstance({ name: `sekisho-${i + 1}`, port, dir, env })),
  );
  proxy = await startNginx({ dir: join(dir, 'nginx'), port: pp!, upstreams: [p1!, p2!, p3!] });
  browser = await launchBrowser();
  callback = await startCallbackServer();
});

after(async () => {
  if (skip) return;
  console.log(
    `multi-instance figures: ${figures.requests} requests under load, ${figures.instancesKilled} instance killed, ` +
      `${figures.failures} failures at live instances, ${figures.refusedAtKilled} in flight at the killed one (502 or cut off), ` +
      `${figures.writesAcknowledged} acknowledged writes, ${figures.writesLost} lost`,
  );
  await browser?.close();
  await callback?.close();
  await proxy?.stop();
  await Promise.all(instances.map((i) => i.kill('SIGTERM')));
  await schema?.drop();
  await dropPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

/** Raw MCP request (2025-era framing, stateless) with a bearer token; returns status, body, upstream. */
async function mcp(url: string, token: string, method: string, params: Record<string, unknown> = {}) {
  const res = await legacyPost(
    `${url}/mcp`,
    { id: 1, method, params },
    {
      headers: { authorization: `Bearer ${token}` },
    },
  );
  return {
    status: res.status,
    body: res.text,
    upstream: res.headers.get('x-sekisho-upstream') ?? '',
    challenge: res.headers.get('www-authenticate') ?? '',
  };
}

interface Answer {
  readonly status: number;
  readonly upstream: string;
  readonly text: string;
  /** The connection ended before the body did (the instance that served it died mid-answer). */
  readonly cut: boolean;
}

/** POST JSON through the proxy, keeping the status and the serving instance even when the body is cut. */
async function send(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const upstream = res.headers.get('x-sekisho-upstream') ?? '';
  try {
    return { status: res.status, upstream, text: await res.text(), cut: false };
  } catch {
    return { status: res.status, upstream, text: '', cut: true };
  }
}

/** A 2026-07-28 request body (the envelope in `_meta`) — sent with `send`, which adds no MCP headers. */
function modernRequest(method: string, params: Record<string, unknown>): Record<string, unknown> {
  return { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: modernEnvelope() } };
}

function parseClientId(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { client_id?: unknown }).client_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A cookie jar whose every request goes to the next instance in turn, as if through a proxy that
 * alternates strictly: the Host header and the cookie scope stay the public (proxy) address.
 */
class HoppingJar extends CookieJar {
  readonly served: string[] = [];
  #n = 0;
  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const target = instances[this.#n++ % instances.length]!;
    const headers = new Headers(init.headers);
    headers.set('host', new URL(base).host);
    const cookie = this.header(base);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(`${target.url}${u.pathname}${u.search}`, {
      ...init,
      headers,
      redirect: 'manual',
    });
    this.store(base, res);
    this.served.push(`${init.method ?? 'GET'} ${u.pathname.replace(/\/[\w-]{20,}/g, '/…')} @${target.name}`);
    return res;
  }
}

describe('three instances behind nginx, one PostgreSQL, one Redis', { skip }, () => {
  let demoTokens: { access_token: string; refresh_token: string };
  let demoClient: string;

  it('a sign-in hops instances at every step; the code from one is redeemed at another; refresh at a third; two refreshing at once → one winner', async () => {
    const client = await registerClient(instances[0]!.url);
    const { verifier, challenge } = pkce();
    const jar = new HoppingJar();
    const url = authorizeUrl(base, {
      clientId: client.client_id,
      challenge,
      state: 's1',
      resource: `${base}/mcp`,
      scope: 'mcp:tools mcp:data',
    });
    const flow = await browserlessLogin(url, {
      ...DEMO,
      jar,
      stopAt: (u) => u.href.startsWith(DEFAULT_REDIRECT),
    }).catch((e: { pages?: { html: string }[] }) => {
      throw new Error(
        `${jar.served.join('\n')}\n${e.pages
          ?.at(-1)
          ?.html.replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')}`,
      );
    });
    assert.ok(jar.served.length >= 5, `${jar.served.join('\n')}\n→ ${flow.callback.href}`);
    const hosts = new Set(jar.served.map((s) => s.split('@')[1]));
    assert.equal(hosts.size, 3, `every instance served part of one sign-in:\n${jar.served.join('\n')}`);
    assert.ok(
      jar.served.some((s) => s.startsWith('POST /interaction')),
      'the login form was posted to a different instance than the one that rendered it',
    );
    const code = flow.callback.searchParams.get('code')!;
    assert.ok(code, flow.callback.href);
    // The code came back from the instance that served the last hop; redeem it at the next one.
    const exchanged = await exchangeCode(instances[jar.served.length % 3]!.url, {
      clientId: client.client_id,
      code,
      verifier,
      resource: `${base}/mcp`,
    });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    // Refresh at yet another instance rotates what the first issued.
    const refreshed = await refresh(instances[(jar.served.length + 2) % 3]!.url, {
      clientId: client.client_id,
      refreshToken: exchanged.body.refresh_token,
      resource: `${base}/mcp`,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.refresh_token, exchanged.body.refresh_token);
    for (const instance of instances) {
      assert.equal((await mcp(instance.url, refreshed.body.access_token, 'tools/list')).status, 200);
    }

    // Two instances refreshing the same token at the same moment: exactly one winner.
    const racers = await Promise.all(
      [instances[0]!, instances[2]!].map((i) =>
        refresh(i.url, {
          clientId: client.client_id,
          refreshToken: refreshed.body.refresh_token,
          resource: `${base}/mcp`,
        }),
      ),
    );
    assert.deepEqual(
      racers.map((r) => r.status).sort(),
      [200, 400],
      `one winner: ${JSON.stringify(racers.map((r) => r.body))}`,
    );
    demoTokens = racers.find((r) => r.status === 200)!.body;
    demoClient = client.client_id;
  });

  describe('the official v2 client through the proxy', () => {
    const log: Exchange[] = [];
    let provider: MemoryOAuthProvider;
    let context: BrowserContext;
    let session: Session | undefined;
    const upstreams: string[] = [];

    before(async () => {
      if (skip) return;
      provider = new MemoryOAuthProvider({ redirectUrl: callback.url });
      context = await browser.newContext();
      context.on('response', (r) => {
        const upstream = r.headers()['x-sekisho-upstream'];
        if (upstream) upstreams.push(upstream);
      });
    });
    after(async () => {
      await session?.close().catch(() => {});
      await context?.close();
    });

    const signIn = async (who: Credentials) => {
      await assert.rejects(connect('v2-modern', `${base}/mcp`, provider, log), (e) => isUnauthorized(e));
      const auth = await authorizeInBrowser(
        context,
        provider.lastAuthorizationUrl(),
        provider.redirectUrl,
        who,
      );
      await finishAuth('v2-modern', `${base}/mcp`, provider, auth.callback, log);
      session = await connect('v2-modern', `${base}/mcp`, provider, log);
      return auth;
    };

    it('discovery, registration, Chromium login and consent, tokens, tools — spread over the instances', async () => {
      const auth = await signIn(ADMIN);
      assert.deepEqual(auth.pages, ['login', 'consent']);
      assert.deepEqual(await session!.listTools(), DEMO_ADMIN_TOOLS);
      assert.match(text(await session!.callTool('user_profile')), /• Username: admin/);
      const served = new Set(upstreams);
      assert.ok(served.size >= 2, `the browser's pages came from several instances: ${[...served]}`);
      const all = new Set(proxy.accessLog().map((l) => l.upstream));
      assert.equal(all.size, 3, `nginx spread the flow over all three instances: ${[...all]}`);
    });

    it('step-up: 403 insufficient_scope → the client re-authorizes for the union → admin_panel works', async () => {
      const before = provider.authorizationUrls.length;
      await assert.rejects(session!.callTool('admin_panel', { action: 'user_stats' }), (e) =>
        isUnauthorized(e),
      );
      assert.equal(provider.authorizationUrls.length, before + 1);
      const stepUp = provider.lastAuthorizationUrl();
      assert.ok(stepUp.searchParams.get('scope')?.split(' ').includes('mcp:admin'));
      const auth = await authorizeInBrowser(context, stepUp, provider.redirectUrl, ADMIN);
      assert.ok(auth.pages.includes('consent'));
      await finishAuth('v2-modern', `${base}/mcp`, provider, auth.callback, log);
      await session!.close();
      session = await connect('v2-modern', `${base}/mcp`, provider, log);
      const stats = await session.callTool('admin_panel', { action: 'user_stats' });
      assert.equal(stats.isError, undefined, text(stats));
    });

    it('refresh through the proxy: a bad access token is replaced silently, the refresh token rotates', async () => {
      const old = provider.currentTokens!;
      provider.corruptAccessToken();
      assert.match(text(await session!.callTool('hello_world')), /^Hello, Admin User!/);
      assert.notEqual(provider.currentTokens!.refresh_token, old.refresh_token);
      assert.equal(
        log.findLast((e) => new URL(e.url).pathname === '/oauth/token')?.form?.get('grant_type'),
        'refresh_token',
      );
    });

    it('a grant revoked on one instance is refused by the others on their very next request', async () => {
      // Warm every instance with demo's token (verdicts cached), then the admin revokes on instance 1.
      for (const i of instances)
        assert.equal((await mcp(i.url, demoTokens.access_token, 'tools/list')).status, 200);
      const admin = provider.currentTokens!.access_token;
      const listed = await mcp(instances[0]!.url, admin, 'tools/call', {
        name: 'admin_panel',
        arguments: { action: 'list_tokens' },
      });
      const grantId = /"grantId":"([^"]+)"[^}]*"clientId":"([^"]+)"/g;
      const target = [...listed.body.matchAll(grantId)].find((m) => m[2] === demoClient)?.[1];
      assert.ok(target, listed.body);
      const revoked = await mcp(instances[0]!.url, admin, 'tools/call', {
        name: 'admin_panel',
        arguments: { action: 'revoke_token', target },
      });
      assert.match(revoked.body, /revoked/);
      for (const i of instances.slice(1)) {
        const after = await mcp(i.url, demoTokens.access_token, 'tools/list');
        assert.equal(after.status, 401, `${i.name} refuses the revoked grant at once`);
        assert.match(after.challenge, /error="invalid_token"/);
      }
      const refreshAfter = await refresh(instances[2]!.url, {
        clientId: demoClient,
        refreshToken: demoTokens.refresh_token,
        resource: `${base}/mcp`,
      });
      assert.equal(refreshAfter.status, 400, 'its refresh token died with it');
    });

    it('a key rotated by the CLI is taken up by every instance without a restart', async () => {
      const rotated = await runCli(['keys', 'rotate', '--json'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const { kid } = JSON.parse(rotated.stdout) as { kid: string };
      const client = provider.clientInformation() as { client_id: string };
      let refreshToken = provider.currentTokens!.refresh_token!;
      for (const instance of instances) {
        let signedWith = '';
        let token = '';
        // Redis tells every instance at once; allow a little time on a loaded machine.
        for (let attempt = 0; attempt < 50 && signedWith !== kid; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 100));
          const res = await refresh(instance.url, {
            clientId: client.client_id,
            refreshToken,
            resource: `${base}/mcp`,
          });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          refreshToken = res.body.refresh_token;
          token = res.body.access_token;
          signedWith = String(decodeProtectedHeader(token).kid);
        }
        assert.equal(signedWith, kid, `${instance.name} signs with the new key`);
        // … and every other instance accepts what it signed.
        for (const other of instances) assert.equal((await mcp(other.url, token, 'tools/list')).status, 200);
        const jwks = (await (await fetch(`${instance.url}/oauth/jwks`)).json()) as {
          keys: { kid: string }[];
        };
        assert.equal(jwks.keys[0]!.kid, kid, `${instance.name} publishes the new key first`);
      }
    });
  });

  it('one instance SIGKILLed under load: nothing that reached a live instance fails, no acknowledged write is lost', async () => {
    const signed = await registerClient(base);
    const { verifier, challenge } = pkce();
    const flow = await browserlessLogin(
      authorizeUrl(base, { clientId: signed.client_id, challenge, state: 'k', resource: `${base}/mcp` }),
      DEMO,
    );
    const tokens = await exchangeCode(base, {
      clientId: signed.client_id,
      code: flow.callback.searchParams.get('code')!,
      verifier,
      resource: `${base}/mcp`,
    });
    assert.equal(tokens.status, 200);
    const victim = instances[1]!;
    const victimAddr = `127.0.0.1:${victim.port}`;
    const servedByVictim = (upstream: string) => upstream.split(', ').at(-1) === victimAddr;
    const acknowledged: string[] = [];
    const failures: string[] = [];
    let stop = false;
    const record = (answer: Answer, ok: boolean, what: string) => {
      figures.requests++;
      if (ok && !answer.cut) return;
      // A request the killed instance had already accepted dies with it: nginx answers 502 when it
      // dies before its answer's headers (and never replays a request an instance received), and
      // cuts the body when it dies after them (an SSE answer of a 2025-era session sends its headers
      // first). Everything else must succeed.
      if ((answer.status === 502 || answer.cut) && servedByVictim(answer.upstream)) figures.refusedAtKilled++;
      else
        failures.push(`${what} → ${answer.status}${answer.cut ? ' (cut off)' : ''} via ${answer.upstream}`);
    };
    const bearer = { authorization: `Bearer ${tokens.body.access_token}` };
    const modernHeaders = {
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': 'tools/call',
      'mcp-name': 'hello_world',
    };
    const helloOk = (a: Answer) => a.status === 200 && /Hello, Demo User/.test(a.text);
    // One request per call, 2026-07-28.
    const modernCaller = async () => {
      while (!stop) {
        const call = modernRequest('tools/call', { name: 'hello_world', arguments: {} });
        const answer = await send(`${base}/mcp`, call, { ...bearer, ...modernHeaders });
        record(answer, helloOk(answer), 'tools/call (2026-07-28)');
      }
    };
    // One 2025-era session for the whole run: its record lives in Redis, so when the instance that
    // answered a request dies, the next request of the same session is served by a survivor.
    const sessionCaller = async () => {
      const opened = await legacyPost(`${base}/mcp`, legacyInitialize(0), { headers: bearer });
      const session = opened.headers.get('mcp-session-id');
      assert.ok(session, 'a 2025-era session opened through the proxy');
      const inSession = { ...bearer, 'mcp-protocol-version': LEGACY_VERSION, 'mcp-session-id': session };
      await send(`${base}/mcp`, { jsonrpc: '2.0', method: 'notifications/initialized' }, inSession);
      for (let id = 1; !stop; id++) {
        const call = {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'hello_world', arguments: {} },
        };
        const answer = await send(`${base}/mcp`, call, inSession);
        record(answer, helloOk(answer), 'tools/call (2025-11-25 session)');
      }
    };
    const writer = async () => {
      // Dynamic registrations are acknowledged writes: a 201 means the client exists, whatever dies next.
      while (!stop) {
        const answer = await send(`${base}/oauth/reg`, {
          client_name: 'load',
          redirect_uris: [DEFAULT_REDIRECT],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        });
        const clientId = answer.status === 201 && !answer.cut ? parseClientId(answer.text) : undefined;
        if (clientId) acknowledged.push(clientId);
        record(answer, clientId !== undefined, 'register');
      }
    };
    const workers = [modernCaller(), modernCaller(), sessionCaller(), writer()];
    await new Promise((r) => setTimeout(r, 1_500));
    await victim.kill('SIGKILL');
    figures.instancesKilled++;
    await new Promise((r) => setTimeout(r, 2_500));
    stop = true;
    await Promise.all(workers);
    figures.failures = failures.length;
    assert.deepEqual(failures, [], 'no request that reached a live instance failed');
    assert.ok(figures.requests > 50, `load was real: ${figures.requests} requests`);

    figures.writesAcknowledged = acknowledged.length;
    const stored = await adminQuery<{ id: string }>(
      `SELECT id FROM ${schema.name}.oidc_models WHERE model = 'Client' AND id = ANY($1)`,
      [acknowledged],
    );
    figures.writesLost = acknowledged.length - stored.length;
    assert.equal(figures.writesLost, 0, 'every acknowledged registration is in PostgreSQL');
    // The survivors keep serving the same session; the proxy routes around the dead one.
    const after = await mcp(base, tokens.body.access_token, 'tools/list');
    assert.equal(after.status, 200);
    assert.notEqual(after.upstream, victimAddr);
    instances = instances.filter((i) => i !== victim);
  });
});
