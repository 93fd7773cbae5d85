/**
 * Issue 12 part 3: 2025-era sessions across instances. Three `src/main.ts` processes behind Debian
 * nginx (round robin, no sticky sessions), one PostgreSQL schema, one Redis prefix, sessions on by
 * default with SEKISHO_REDIS_URL. Through it, the official clients (v2 in 2025-11-25, v1 1.32.2):
 * the elicitation of `admin_panel revoke_token` whose answer lands on another instance than the one
 * waiting for it, and exactly one `tools/list_changed` per role change (CLI) however many instances
 * hold a copy. A GET stream dropped on one instance and resumed on another loses no event. Hijacks
 * across instances: another user's token or a guessed id → 404, DELETE on one → 404 on all, a
 * revoked grant's session refused on all.
 *
 * Needs nginx, PostgreSQL and Redis: skips loudly without them, fails under CI=true.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { CLIENT_INFO, firstText, staticBearer } from '../helpers/clients.ts';
import { authorizeUrl, exchangeCode, pkce, registerClient } from '../helpers/oauth.ts';
import { type Cluster, clusterUnavailable, startCluster } from './support/cluster.ts';
import { type Instance, runCli } from './support/instances.ts';

const skip = await clusterUnavailable();

const VERSION = '2025-11-25';
const ADMIN_SCOPES = 'mcp:tools mcp:data mcp:admin';
const ROUTED = 'answer to a server request routed to the instance that sent it';

let cluster: Cluster;
let instances: readonly Instance[] = [];
let env: Readonly<Record<string, string>>;
let base: string;
let clientId: string;

before(async () => {
  if (skip) return;
  // info: the instances' lines show which one a routed answer reached.
  cluster = await startCluster('sessions', {
    SEKISHO_DEMO: '1',
    SEKISHO_ANONYMOUS: '0',
    SEKISHO_LOG_LEVEL: process.env.SEKISHO_TEST_SHOW_LOGS ? 'debug' : 'info',
    SEKISHO_REGISTRATIONS_PER_HOUR: '100000',
  });
  ({ instances, env, base } = cluster);
  clientId = (await registerClient(base)).client_id;
});

after(async () => {
  if (skip) return;
  // SEKISHO_TEST_SHOW_LOGS=1: the proxy's /mcp lines and the instances' session lines, for debugging.
  if (process.env.SEKISHO_TEST_SHOW_LOGS) {
    for (const l of cluster.proxy.accessLog()) if (l.path === '/mcp') console.log('nginx', JSON.stringify(l));
    for (const i of instances) {
      for (const l of i.log().split('\n')) if (/mcp|routed/.test(l)) console.log(i.name, l.slice(0, 300));
    }
  }
  await cluster?.close();
});

/** A fresh grant's access token for a demo account, through the proxy (sign-in hops instances). */
async function token(username: string, password: string, scope: string): Promise<string> {
  const { verifier, challenge } = pkce();
  const resource = `${base}/mcp`;
  const flow = await browserlessLogin(
    authorizeUrl(base, { clientId, challenge, state: 's', resource, scope }),
    {
      username,
      password,
    },
  );
  const tokens = await exchangeCode(base, {
    clientId,
    code: flow.callback.searchParams.get('code')!,
    verifier,
    resource,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return tokens.body.access_token as string;
}

const grantOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).gid as string;

function headers(jwt: string, session?: string, extra: Record<string, string> = {}) {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': VERSION,
    authorization: `Bearer ${jwt}`,
    ...(session && { 'mcp-session-id': session }),
    ...extra,
  };
}

/** A raw 2025-era session opened at `url` (an instance directly, or the proxy). */
async function initialize(url: string, jwt: string): Promise<string> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: headers(jwt),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 't', version: '0' } },
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  const id = res.headers.get('mcp-session-id');
  assert.ok(id);
  const ack = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: headers(jwt, id),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  assert.equal(ack.status, 202);
  return id;
}

async function listTools(url: string, jwt: string, session: string) {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: headers(jwt, session),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  return { status: res.status, text: await res.text() };
}

const routedAnswers = () =>
  instances.reduce(
    (n, i) =>
      n +
      i
        .log()
        .split('\n')
        .filter((l) => l.includes(ROUTED)).length,
    0,
  );

async function setRole(username: string, role: 'admin' | 'user') {
  const out = await runCli(['users', 'role', username, role], env);
  assert.equal(out.code, 0, out.stderr);
}

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `revoke_token` declining its elicitation until one answer has crossed instances (round robin
 * decides where it lands; bounded), then `accept()`s and calls once more: the confirmed revocation.
 */
async function revokeOnceRoutedAcrossInstances<R extends Parameters<typeof firstText>[0]>(
  revoke: () => Promise<R>,
  accept: () => void,
): Promise<R> {
  const before = routedAnswers();
  for (let i = 0; i < 8 && routedAnswers() === before; i++) {
    assert.match(firstText(await revoke()), /Not revoked/);
    await pause(100);
  }
  assert.ok(routedAnswers() > before, 'an answer reached the waiting instance from another one');
  accept();
  return revoke();
}

describe('2025-era sessions across three instances behind nginx', { skip }, () => {
  it('v2 client (2025-11-25): the revoke_token elicitation is answered on another instance', async () => {
    const admin = await token('admin', 'admin123', ADMIN_SCOPES);
    const victim = grantOf(await token('demo', 'demo123', 'mcp:tools'));
    let answer: 'decline' | 'accept' = 'decline';
    let asked = 0;
    const client = new ClientV2(CLIENT_INFO, {
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: { mode: 'legacy' },
    });
    client.setRequestHandler('elicitation/create', async () => {
      asked++;
      return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    });
    await client.connect(new TransportV2(new URL(`${base}/mcp`), { authProvider: staticBearer(admin) }), {
      timeout: 10_000,
    });
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), VERSION);
      const revoked = await revokeOnceRoutedAcrossInstances(
        () =>
          client.callTool({
            name: 'admin_panel',
            arguments: { action: 'revoke_token', target: victim.slice(0, 14) },
          }),
        () => {
          answer = 'accept';
        },
      );
      assert.match(firstText(revoked), /revoked/);
      assert.equal((revoked.structuredContent as { confirmed?: boolean }).confirmed, true);
      assert.ok(asked >= 2);
    } finally {
      await client.close();
    }
  });

  it('v1 client: the same elicitation, answered across instances', async () => {
    const admin = await token('admin', 'admin123', ADMIN_SCOPES);
    const victim = grantOf(await token('demo', 'demo123', 'mcp:tools'));
    let answer: 'decline' | 'accept' = 'decline';
    const client = new ClientV1(CLIENT_INFO, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler(ElicitRequestSchema, async () =>
      answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' },
    );
    await client.connect(
      new TransportV1(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${admin}` } },
      }),
    );
    try {
      const revoked = await revokeOnceRoutedAcrossInstances(
        () =>
          client.callTool({
            name: 'admin_panel',
            arguments: { action: 'revoke_token', target: victim.slice(0, 14) },
          }),
        () => {
          answer = 'accept';
        },
      );
      assert.match(firstText(revoked), /revoked/);
    } finally {
      await client.close();
    }
  });

  it('v2 and v1 clients each get exactly one tools/list_changed per role change', async () => {
    const jwtV2 = await token('demo', 'demo123', ADMIN_SCOPES);
    const jwtV1 = await token('demo', 'demo123', ADMIN_SCOPES);
    const v2 = new ClientV2(CLIENT_INFO, { capabilities: {}, versionNegotiation: { mode: 'legacy' } });
    const v1 = new ClientV1(CLIENT_INFO, { capabilities: {} });
    let changedV2 = 0;
    let changedV1 = 0;
    v2.setNotificationHandler('notifications/tools/list_changed', () => {
      changedV2++;
    });
    v1.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changedV1++;
    });
    await v2.connect(new TransportV2(new URL(`${base}/mcp`), { authProvider: staticBearer(jwtV2) }), {
      timeout: 10_000,
    });
    await v1.connect(
      new TransportV1(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${jwtV1}` } },
      }),
    );
    try {
      // Several requests spread over the instances, so more than one holds a copy of each session.
      for (let i = 0; i < 4; i++) {
        await v2.listTools();
        await v1.listTools();
      }
      await pause(1_000); // the clients' GET streams are open
      await setRole('demo', 'admin');
      await waitFor(() => changedV2 >= 1 && changedV1 >= 1, 'tools/list_changed delivered to both');
      await pause(2_000);
      assert.equal(changedV2, 1, 'v2: one notification, however many instances hold a copy');
      assert.equal(changedV1, 1, 'v1: one notification');
      assert.ok((await v2.listTools()).tools.some((t) => t.name === 'admin_panel'));
    } finally {
      await setRole('demo', 'user');
      await v2.close();
      await v1.close();
    }
  });

  it('a GET stream dropped on one instance and resumed on another loses no event', async () => {
    const jwt = await token('demo', 'demo123', ADMIN_SCOPES);
    const [a, b] = [instances[0]!, instances[1]!];
    const id = await initialize(a.url, jwt);
    const first = await openStream(a.url, jwt, id);
    await pause(500);
    const roles = ['admin', 'user', 'admin', 'user'] as const;
    const seen: SseEvent[] = [];
    for (const role of roles.slice(0, 2)) {
      await setRole('demo', role);
      seen.push(await first.next());
      await pause(1_700); // beyond the window in which copies' identical notifications are one
    }
    first.close();
    await pause(500);
    // While no stream is open anywhere, two more changes: stored once each, in Redis.
    for (const role of roles.slice(2)) {
      await setRole('demo', role);
      await pause(1_700);
    }
    const resumed = await openStream(b.url, jwt, id, seen.at(-1)!.id);
    const replayed = [await resumed.next(), await resumed.next()];
    const extra = await resumed.next(1_500).catch(() => undefined);
    resumed.close();
    const all = [...seen, ...replayed];
    for (const event of all) assert.match(event.data, /notifications\/tools\/list_changed/);
    assert.equal(extra, undefined, 'nothing beyond the four changes');
    assert.equal(new Set(all.map((e) => e.id)).size, 4, 'four distinct events, none lost or repeated');
  });

  it("hijacks across instances: another user's token, a guessed id → 404 on every instance", async () => {
    const demo = await token('demo', 'demo123', 'mcp:tools');
    const admin = await token('admin', 'admin123', ADMIN_SCOPES);
    const id = await initialize(instances[0]!.url, demo);
    for (const instance of instances) {
      assert.equal((await listTools(instance.url, demo, id)).status, 200, `owner on ${instance.name}`);
      const other = await listTools(instance.url, admin, id);
      assert.equal(other.status, 404, `another user's token on ${instance.name}`);
      assert.match(other.text, /Session not found/);
      const guessed = await listTools(instance.url, demo, `${id.slice(0, -2)}AA`);
      assert.equal(guessed.status, 404, `a guessed id on ${instance.name}`);
      assert.equal((await listTools(instance.url, demo, 'not-an-id')).status, 404);
    }
    // The same user through another grant is another principal too.
    const again = await token('demo', 'demo123', 'mcp:tools');
    assert.equal((await listTools(instances[2]!.url, again, id)).status, 404);
  });

  it('DELETE on one instance → 404 on the others', async () => {
    const demo = await token('demo', 'demo123', 'mcp:tools');
    const id = await initialize(instances[0]!.url, demo);
    for (const instance of instances) assert.equal((await listTools(instance.url, demo, id)).status, 200);
    const del = await fetch(`${instances[1]!.url}/mcp`, { method: 'DELETE', headers: headers(demo, id) });
    assert.equal(del.status, 200);
    await del.text();
    for (const instance of instances) {
      assert.equal((await listTools(instance.url, demo, id)).status, 404, instance.name);
    }
  });

  it("a revoked grant's session is refused on every instance", async () => {
    const demo = await token('demo', 'demo123', 'mcp:tools');
    const id = await initialize(instances[0]!.url, demo);
    for (const instance of instances) assert.equal((await listTools(instance.url, demo, id)).status, 200);
    const revoke = await runCli(['grants', 'revoke', grantOf(demo)], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    for (const instance of instances) {
      const res = await listTools(instance.url, demo, id);
      assert.ok([401, 404].includes(res.status), `${instance.name}: ${res.status}`);
    }
    // Nor does a fresh token of the same user reach it (another grant).
    const fresh = await token('demo', 'demo123', 'mcp:tools');
    for (const instance of instances) assert.equal((await listTools(instance.url, fresh, id)).status, 404);
  });
});

interface SseEvent {
  id: string;
  data: string;
}

async function openStream(url: string, jwt: string, session: string, lastEventId?: string) {
  const ctl = new AbortController();
  const res = await fetch(`${url}/mcp`, {
    headers: headers(jwt, session, {
      accept: 'text/event-stream',
      ...(lastEventId && { 'last-event-id': lastEventId }),
    }),
    signal: ctl.signal,
  });
  assert.equal(res.status, 200, await (res.status === 200 ? Promise.resolve('') : res.text()));
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(ms = 20_000): Promise<SseEvent> {
      for (let i = 0; i < 1000; i++) {
        const cut = buffer.indexOf('\n\n');
        if (cut >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const lines = frame.split('\n');
          const data = lines
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('');
          const id = lines
            .find((l) => l.startsWith('id:'))
            ?.slice(3)
            .trim();
          if (data && id) return { id, data };
          continue;
        }
        const { value, done } = await withTimeout(reader.read(), ms);
        if (done) throw new Error('stream ended');
        buffer += value;
      }
      throw new Error('no event');
    },
    close: () => ctl.abort(),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
