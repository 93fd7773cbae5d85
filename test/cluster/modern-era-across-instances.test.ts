/**
 * Issue #12 acceptance for 2026-07-28 through the three-instance setup (three `src/main.ts` behind
 * nginx round robin, one PostgreSQL, one Redis), with the official v2 client negotiating 2026-07-28:
 *
 *  - `admin_panel revoke_token` asks through `input_required`, and the retry carrying the answer is
 *    served by another instance than the first round (the access log says which): it revokes on
 *    confirmation and keeps the grant on a decline — no flow state lives in one process;
 *  - a `subscriptions/listen` stream open on one instance receives `tools/list_changed` when the
 *    listener's role is changed by the CLI (another process) and by the admin console on another
 *    instance: `user.changed` crosses instances on the Redis invalidation bus.
 *
 * Needs nginx, PostgreSQL and Redis: skips loudly without them, fails under CI=true.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { CookieJar, parseForms } from '../helpers/browserless-login.ts';
import { CLIENT_INFO, firstText, staticBearer } from '../helpers/clients.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { signIn } from '../helpers/oauth.ts';
import { type Cluster, clusterUnavailable, startCluster } from './support/cluster.ts';
import { type Instance, runCli } from './support/instances.ts';

const skip = await clusterUnavailable();
const ADMIN_SCOPES = 'mcp:tools mcp:data mcp:admin';

let cluster: Cluster;
before(async () => {
  if (skip) return;
  cluster = await startCluster('modern', { SEKISHO_DEMO: '1', SEKISHO_ANONYMOUS: '0' });
});
after(() => cluster?.close());

/** A token for `username` through the real sign-in pages, via the proxy. */
async function tokenFor(username: string, password: string, scope = ADMIN_SCOPES): Promise<string> {
  const { tokens } = await signIn(cluster.base, { username, password }, { scope });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return tokens.body.access_token as string;
}

function grantIdOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).gid as string;
}

interface Served {
  readonly method: string;
  readonly upstream: string;
}

/**
 * The v2 client in modern mode through the proxy; every POST's JSON-RPC method and the instance that
 * answered it (nginx's `X-Sekisho-Upstream`) are recorded.
 */
async function modernClient(token: string, opts: { elicitation?: boolean } = {}) {
  const served: Served[] = [];
  const fetchRecording = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    let method = init?.method ?? 'GET';
    if (typeof init?.body === 'string') {
      try {
        method = String((JSON.parse(init.body) as { method?: unknown }).method);
      } catch {}
    }
    served.push({ method, upstream: res.headers.get('x-sekisho-upstream') ?? '' });
    return res;
  };
  const client = new Client(CLIENT_INFO, {
    capabilities: opts.elicitation ? { elicitation: { form: {} } } : {},
    versionNegotiation: { mode: 'auto' },
  });
  const transport = new StreamableHTTPClientTransport(new URL(`${cluster.base}/mcp`), {
    authProvider: staticBearer(token),
    fetch: fetchRecording,
  });
  await client.connect(transport, { timeout: 15_000 });
  assert.equal(client.getProtocolEra(), 'modern');
  assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
  return { client, served };
}

/** Whether `token` still works — asked of every instance directly (each reads the one grant store). */
async function grantAlive(token: string): Promise<boolean> {
  const verdicts = await Promise.all(
    cluster.instances.map(async (instance) => {
      const res = await modernPost(
        `${instance.url}/mcp`,
        'tools/list',
        {},
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      assert.ok(
        res.status === 200 || res.status === 401,
        `${instance.name}: unexpected ${res.status} ${res.text}`,
      );
      return res.status === 200;
    }),
  );
  assert.equal(new Set(verdicts).size, 1, `the instances disagree: ${verdicts.join(' ')}`);
  return verdicts[0]!;
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${what}\n${cluster.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('2026-07-28 through three instances behind nginx', { skip }, () => {
  describe('admin_panel revoke_token: input_required answered on another instance', () => {
    for (const [label, answer, revoked] of [
      ['confirmed → revoked', { action: 'accept', content: { confirm: true } }, true],
      ['declined → kept', { action: 'decline' }, false],
    ] as const) {
      it(label, async () => {
        const victim = await tokenFor('demo', 'demo123', 'mcp:tools');
        assert.equal(await grantAlive(victim), true);
        const { client, served } = await modernClient(await tokenFor('admin', 'admin123'), {
          elicitation: true,
        });
        const asked: string[] = [];
        client.setRequestHandler('elicitation/create', async (request) => {
          asked.push(String((request.params as { message?: string }).message));
          return answer;
        });
        try {
          const result = (await client.callTool({
            name: 'admin_panel',
            arguments: { action: 'revoke_token', target: grantIdOf(victim).slice(0, 14) },
          })) as { isError?: boolean; content: unknown[]; structuredContent?: Record<string, unknown> };
          assert.equal(asked.length, 1, 'one question');
          assert.match(asked[0]!, /Revoke demo's authorization/);
          const rounds = served.filter((s) => s.method === 'tools/call');
          assert.equal(rounds.length, 2, `first round + retry: ${JSON.stringify(served)}`);
          assert.notEqual(
            rounds[0]!.upstream,
            rounds[1]!.upstream,
            `the retry went to another instance: ${JSON.stringify(rounds)}`,
          );
          if (revoked) {
            assert.equal(result.isError, undefined, firstText(result));
            assert.match(firstText(result), /revoked/);
            assert.equal(result.structuredContent?.confirmed, true);
          } else {
            assert.match(firstText(result), /Not revoked/);
          }
          assert.equal(await grantAlive(victim), !revoked);
        } finally {
          await client.close();
        }
      });
    }
  });

  describe('subscriptions/listen on one instance, role changed elsewhere', () => {
    const username = `listener-${Date.now()}`;
    const password = 'correct horse battery staple';

    it('tools/list_changed arrives after `sekisho users role` (CLI) and after the admin console on another instance', async () => {
      const added = await runCli(['users', 'add', username, '--password', password], cluster.env);
      assert.equal(added.code, 0, added.stderr);
      const { client, served } = await modernClient(await tokenFor(username, password));
      let changed = 0;
      client.setNotificationHandler('notifications/tools/list_changed', () => {
        changed++;
      });
      const names = async () => (await client.listTools()).tools.map((t) => t.name);
      try {
        assert.equal((await names()).includes('admin_panel'), false, 'a plain user does not see it');
        const subscription = await client.listen({ toolsListChanged: true });
        const listenOn = served.find((s) => s.method === 'subscriptions/listen')?.upstream;
        assert.ok(listenOn, JSON.stringify(served));

        const promoted = await runCli(['users', 'role', username, 'admin'], cluster.env);
        assert.equal(promoted.code, 0, promoted.stderr);
        await waitFor(() => changed >= 1, 'tools/list_changed after the CLI role change');
        assert.equal((await names()).includes('admin_panel'), true, 'the new role shows on the next list');

        // The console, on an instance other than the one holding the stream.
        const other = cluster.instances.find((i) => !listenOn.endsWith(`:${i.port}`))!;
        await consoleSetRole(other, username, 'user');
        await waitFor(() => changed >= 2, `tools/list_changed after the console on ${other.name}`);
        assert.equal((await names()).includes('admin_panel'), false);
        await subscription.close();
      } finally {
        await client.close();
      }
    });
  });
});

/**
 * Signs in to the admin console as admin at one instance (Host = the public address, as through the
 * proxy) and changes a user's role with the console's own form.
 */
async function consoleSetRole(instance: Instance, username: string, role: 'admin' | 'user'): Promise<void> {
  const jar = new PinnedJar(instance, cluster.base);
  const page = await jar.fetch(`${cluster.base}/account`);
  const form = parseForms(await page.text()).find((f) => f.action.includes('/account/login'));
  assert.ok(form, 'the account sign-in form');
  const login = await jar.fetch(new URL(form.action, cluster.base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, username: 'admin', password: 'admin123' }),
  });
  assert.equal(login.status, 303);
  const users = await jar.fetch(`${cluster.base}/admin/users`);
  assert.equal(users.status, 200);
  const csrf = parseForms(await users.text()).find((f) => f.fields.csrf)?.fields.csrf;
  assert.ok(csrf);
  const res = await jar.fetch(`${cluster.base}/admin/users/role`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, username, role }),
  });
  assert.equal(res.status, 303, await res.text());
}

/** A cookie jar whose every request goes to one instance, addressed by the public host. */
class PinnedJar extends CookieJar {
  readonly #instance: Instance;
  readonly #base: string;
  constructor(instance: Instance, base: string) {
    super();
    this.#instance = instance;
    this.#base = base;
  }
  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const headers = new Headers(init.headers);
    headers.set('host', new URL(this.#base).host);
    const cookie = this.header(this.#base);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(`${this.#instance.url}${u.pathname}${u.search}`, {
      ...init,
      headers,
      redirect: 'manual',
    });
    this.store(this.#base, res);
    return res;
  }
}
