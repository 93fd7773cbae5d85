/**
 * Issue #4 acceptance, end to end over real HTTP: the official clients meet Sekisho with nothing but
 * the URL, and do the whole flow on their own — 401 → protected-resource metadata → AS metadata →
 * dynamic registration → authorize → login and consent in headless Chromium → code → token (with
 * `resource`) → tools/list (exactly the user's tools) → tools/call. Then step-up, refresh rotation,
 * and revocation through admin_panel, for each client generation:
 *
 *   v2-modern  @modelcontextprotocol/client 2.4.0, versionNegotiation auto → 2026-07-28
 *   v2-legacy  the same client, plain 2025 initialize
 *   v1         @modelcontextprotocol/sdk 1.32.2 (what MCP Inspector embeds), 2025 era only
 *
 * The server runs in demo mode (the seed's users) with anonymous access off, so every request needs
 * a token and the clients start OAuth at connect. Tests inside one `describe` build on each other
 * (sign-in, then step-up, then refresh …), as a user's session would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import {
  authorizeInBrowser,
  browserUnavailable,
  type Credentials,
  launchBrowser,
  startCallbackServer,
} from '../helpers/browser.ts';
import { DEMO_ADMIN_TOOLS, DEMO_USER_TOOLS } from '../helpers/expected-tools.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  connect,
  type Exchange,
  FLAVORS,
  type Flavor,
  finishAuth,
  isUnauthorized,
  type Session,
  text,
} from './support/mcp-clients.ts';
import { MemoryOAuthProvider } from './support/oauth-provider.ts';

const skip = browserUnavailable();
const DEMO: Credentials = { username: 'demo', password: 'demo123' };
const ADMIN: Credentials = { username: 'admin', password: 'admin123' };
const USER_TOOLS = [...DEMO_USER_TOOLS];
const ADMIN_TOOLS = DEMO_ADMIN_TOOLS;

let srv: TestServer;
let browser: Browser;
let callback: Awaited<ReturnType<typeof startCallbackServer>>;

before(async () => {
  if (skip) return;
  srv = await startTestServer({
    SEKISHO_DEMO: '1',
    SEKISHO_ANONYMOUS: '0',
    // Reuse of a consumed refresh token revokes the grant at once (no grace) — asserted below.
    SEKISHO_REFRESH_REUSE_GRACE_SECONDS: '0',
  });
  browser = await launchBrowser();
  callback = await startCallbackServer();
});
after(async () => {
  await browser?.close();
  await callback?.close();
  await srv?.close();
});

/** One user at one client: a provider (the host's token store), a browser profile and a log. */
class Actor {
  provider!: MemoryOAuthProvider;
  readonly log: Exchange[] = [];
  readonly flavor: Flavor;
  readonly credentials: Credentials;
  context!: BrowserContext;
  session: Session | undefined;
  constructor(flavor: Flavor, credentials: Credentials) {
    this.flavor = flavor;
    this.credentials = credentials;
  }
  async init() {
    this.provider = new MemoryOAuthProvider({ redirectUrl: callback.url });
    this.context = await browser.newContext();
  }
  /** Connect, expecting the client to need authorization first; returns the authorization URL. */
  async connectExpectingAuth(): Promise<URL> {
    const before = this.provider.authorizationUrls.length;
    await assert.rejects(connect(this.flavor, srv.mcpUrl, this.provider, this.log), (e) => isUnauthorized(e));
    assert.equal(
      this.provider.authorizationUrls.length,
      before + 1,
      'the client opened one authorization URL',
    );
    return this.provider.lastAuthorizationUrl();
  }
  /** The browser leg + the host's callback handling; returns which pages the user saw. */
  async authorize(url: URL) {
    const result = await authorizeInBrowser(this.context, url, this.provider.redirectUrl, this.credentials);
    await finishAuth(this.flavor, srv.mcpUrl, this.provider, result.callback, this.log);
    return result;
  }
  async connect() {
    this.session = await connect(this.flavor, srv.mcpUrl, this.provider, this.log);
    return this.session;
  }
  async signIn() {
    await this.authorize(await this.connectExpectingAuth());
    return this.connect();
  }
  async close() {
    await this.session?.close().catch(() => {});
    await this.context?.close();
  }
}

const path = (e: Exchange) => `${e.method} ${new URL(e.url).pathname}`;
const scopesOf = (url: URL) => (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean).sort();

for (const flavor of FLAVORS) {
  describe(`${flavor} client: the whole OAuth flow against /mcp`, { skip }, () => {
    const demo = new Actor(flavor, DEMO);
    const admin = new Actor(flavor, ADMIN);
    before(async () => {
      await demo.init();
      await admin.init();
    });
    after(async () => {
      await demo.close();
      await admin.close();
    });

    it('discovers everything from a 401, registers, signs in through the pages, and sees exactly the user’s tools', async () => {
      const url = await demo.connectExpectingAuth();
      const [first] = demo.log;
      assert.equal(path(first!), 'POST /mcp');
      assert.equal(first!.status, 401);
      assert.equal(
        first!.wwwAuthenticate,
        `Bearer scope="mcp:tools mcp:data", resource_metadata="${srv.url}/.well-known/oauth-protected-resource/mcp"`,
      );
      const seen = demo.log.map(path);
      for (const step of [
        'GET /.well-known/oauth-protected-resource/mcp',
        'GET /.well-known/oauth-authorization-server',
        'POST /oauth/register',
      ]) {
        assert.ok(seen.includes(step), `client did ${step}: ${seen.join(' → ')}`);
      }
      assert.equal(demo.log.find((e) => path(e) === 'POST /oauth/register')?.status, 201);
      assert.equal(url.origin + url.pathname, `${srv.url}/oauth/authorize`);
      assert.equal(url.searchParams.get('resource'), srv.mcpUrl, 'RFC 8707 resource on authorize');
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(scopesOf(url).includes('mcp:tools') && scopesOf(url).includes('mcp:data'));

      const auth = await demo.authorize(url);
      assert.deepEqual(auth.pages, ['login', 'consent']);
      assert.equal(auth.callback.searchParams.get('iss'), srv.url, 'RFC 9207 iss on the response');
      const tokenRequest = demo.log.find((e) => path(e) === 'POST /oauth/token');
      assert.equal(tokenRequest?.status, 200);
      assert.equal(tokenRequest?.form?.get('grant_type'), 'authorization_code');
      assert.equal(tokenRequest?.form?.get('resource'), srv.mcpUrl, 'RFC 8707 resource on the token request');

      const session = await demo.connect();
      assert.equal(session.era, flavor === 'v2-modern' ? 'modern' : 'legacy');
      assert.deepEqual(await session.listTools(), USER_TOOLS);
      const profile = await session.callTool('user_profile');
      assert.equal(profile.isError, undefined);
      assert.match(text(profile), /• Username: demo\n• Name: Demo User/);
      const status = text(await session.callTool('auth_status'));
      assert.match(status, /Current User: Demo User \(demo\)/);
      assert.doesNotMatch(status, new RegExp(demo.provider.currentTokens!.access_token.slice(0, 40)));
    });

    it('a user-role token calling admin_panel gets a clear tool error, not a challenge loop', async () => {
      const before = demo.provider.authorizationUrls.length;
      const result = await demo.session!.callTool('admin_panel', { action: 'list_tokens' });
      assert.equal(result.isError, true);
      assert.equal(text(result), 'This tool needs the admin role; you are signed in as a user.');
      assert.equal(demo.provider.authorizationUrls.length, before, 'no new authorization request');
    });

    it('an admin without mcp:admin steps up: 403 insufficient_scope → re-authorize with the union → success', async () => {
      const session = await admin.signIn();
      assert.deepEqual(await session.listTools(), ADMIN_TOOLS);
      const granted = admin.provider.currentTokens!.scope?.split(' ') ?? [];
      assert.ok(!granted.includes('mcp:admin'), `first grant is the basic set, got ${granted}`);

      const before = admin.provider.authorizationUrls.length;
      const refreshesBefore = admin.log.filter((e) => e.url.endsWith('/oauth/token')).length;
      // Every client ends in a new authorization request. v2 authorizes again at once; v1 1.32.2
      // first refreshes (a refresh cannot widen a grant), which Sekisho refuses with invalid_grant
      // because a step-up is pending on the grant — so v1 drops its tokens and authorizes, keeping
      // its registration (oauth/step-up.ts).
      await assert.rejects(session.callTool('admin_panel', { action: 'user_stats' }), (e) =>
        isUnauthorized(e),
      );
      const challenge = admin.log.findLast((e) => e.status === 403)?.wwwAuthenticate ?? '';
      assert.match(
        challenge,
        /^Bearer error="insufficient_scope", error_description="[^"]+", scope="mcp:admin"/,
      );
      const refreshes = admin.log.filter((e) => e.url.endsWith('/oauth/token')).slice(refreshesBefore);
      if (flavor === 'v1') {
        assert.deepEqual(
          refreshes.map((e) => e.status),
          [400],
          'v1 tried one refresh, refused with invalid_grant',
        );
        assert.equal(admin.provider.currentTokens, undefined, 'v1 dropped its tokens');
        assert.ok(admin.provider.clientInformation(), 'v1 kept its registration');
      } else {
        assert.deepEqual(refreshes, [], 'v2 does not refresh before a step-up');
      }
      assert.equal(admin.provider.authorizationUrls.length, before + 1);
      const stepUp = admin.provider.lastAuthorizationUrl();
      const expected = flavor === 'v1' ? ['mcp:admin'] : ['mcp:admin', 'mcp:data', 'mcp:tools'];
      assert.deepEqual(
        scopesOf(stepUp).filter((s) => s.startsWith('mcp:')),
        expected,
        flavor === 'v1' ? 'v1 asks for the challenged scope alone' : 'v2 asks for the union of scopes',
      );
      const auth = await admin.authorize(stepUp);
      assert.ok(auth.pages.includes('consent'), 'the user consents to the wider scope');
      assert.match(auth.consentText ?? '', /Administer Sekisho/);
      await session.close();
      const upgraded = await admin.connect();
      const stats = await upgraded.callTool('admin_panel', { action: 'user_stats' });
      assert.equal(stats.isError, undefined, text(stats));
      assert.match(text(stats), /Users: 3 \(2 admins\)/);
    });

    it('refresh works and rotates; replaying the old refresh token is refused and revokes the grant', async () => {
      const before = demo.provider.currentTokens!;
      assert.ok(before.refresh_token, 'a refresh token was issued');
      demo.provider.corruptAccessToken(); // the host's access token went bad; its refresh token did not
      const hello = await demo.session!.callTool('hello_world');
      assert.match(text(hello), /^Hello, Demo User!/);
      const after = demo.provider.currentTokens!;
      assert.notEqual(after.access_token, before.access_token);
      assert.ok(
        after.refresh_token && after.refresh_token !== before.refresh_token,
        'the refresh token rotated',
      );
      const refresh = demo.log.findLast((e) => path(e) === 'POST /oauth/token');
      assert.equal(refresh?.form?.get('grant_type'), 'refresh_token');
      assert.equal(refresh?.status, 200);

      // The old refresh token, replayed by anyone at once: refused (invalid_grant), and with a grace
      // window of 0 s even a same-second replay counts as reuse.
      const client = demo.provider.clientInformation() as { client_id: string };
      const replay = await fetch(`${srv.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: before.refresh_token!,
          client_id: client.client_id,
          resource: srv.mcpUrl,
        }),
      });
      assert.equal(replay.status, 400);
      assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
      // Reuse detection revoked the whole grant: the fresh access token stops working at once.
      const raw = await fetch(srv.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${after.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      assert.equal(raw.status, 401);
      assert.match(raw.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      // … and the client re-authorizes from scratch.
      await demo.session!.close();
      demo.session = await demo.signIn();
      assert.deepEqual(await demo.session.listTools(), USER_TOOLS);
    });

    it('admin_panel revoke_token on another user’s grant: their next request gets 401 and their client re-authorizes', async () => {
      const adminSession = admin.session!;
      const listed = await adminSession.callTool('admin_panel', { action: 'list_tokens' });
      const grants = (listed.structuredContent?.grants ?? []) as {
        grantId: string;
        username: string;
        clientId: string;
      }[];
      const demoClient = (demo.provider.clientInformation() as { client_id: string }).client_id;
      const target = grants.find((g) => g.username === 'demo' && g.clientId === demoClient);
      assert.ok(target, `demo's grant is listed: ${JSON.stringify(grants)}`);
      const revoked = await adminSession.callTool('admin_panel', {
        action: 'revoke_token',
        target: target.grantId.slice(0, 10),
      });
      assert.equal(revoked.isError, undefined, text(revoked));
      assert.match(text(revoked), new RegExp(`Grant ${target.grantId} revoked`));

      const logFrom = demo.log.length;
      const before = demo.provider.authorizationUrls.length;
      await assert.rejects(demo.session!.callTool('user_profile'), (e) => isUnauthorized(e));
      const next = demo.log.slice(logFrom);
      assert.equal(path(next[0]!), 'POST /mcp');
      assert.equal(next[0]!.status, 401);
      assert.match(
        next[0]!.wwwAuthenticate ?? '',
        /error="invalid_token", error_description="The authorization behind this token was revoked/,
      );
      // A 2025-era client's session ended with the grant, and its GET stream's reconnection (401) may
      // start an authorization of its own: close the client first, then finish the latest one.
      assert.ok(
        demo.provider.authorizationUrls.length >= before + 1,
        'the client started a new authorization',
      );
      await demo.session!.close();
      await demo.authorize(demo.provider.lastAuthorizationUrl());
      const again = await demo.connect();
      assert.match(text(await again.callTool('user_profile')), /• Username: demo/);
    });
  });
}

describe('demo mode with anonymous access: OAuth starts at the first tool that needs a user', {
  skip,
}, () => {
  let open: TestServer;
  before(async () => {
    if (skip) return;
    open = await startTestServer({ SEKISHO_DEMO: '1' });
  });
  after(() => open?.close());

  for (const flavor of FLAVORS) {
    it(`${flavor}: anonymous sees every tool, 401 on user_profile starts OAuth, then the call works`, async () => {
      const provider = new MemoryOAuthProvider({ redirectUrl: callback.url });
      const log: Exchange[] = [];
      const anonymous = await connect(flavor, open.mcpUrl, provider, log);
      // Issue 9: the signed-in tools are listed too (described as needing sign-in), so a user can
      // pick one, and the 401 it answers is what makes the client start OAuth.
      assert.deepEqual(await anonymous.listTools(), ADMIN_TOOLS);
      assert.match(text(await anonymous.callTool('hello_world')), /Hello, World! \(🔓 Anonymous\)/);
      await assert.rejects(anonymous.callTool('user_profile'), (e) => isUnauthorized(e));
      assert.equal(
        log.findLast((e) => e.status === 401)?.wwwAuthenticate?.includes('scope="mcp:tools mcp:data"'),
        true,
      );
      const context = await browser.newContext();
      try {
        const auth = await authorizeInBrowser(
          context,
          provider.lastAuthorizationUrl(),
          provider.redirectUrl,
          DEMO,
        );
        await finishAuth(flavor, open.mcpUrl, provider, auth.callback, log);
      } finally {
        await context.close();
      }
      await anonymous.close();
      const signedIn = await connect(flavor, open.mcpUrl, provider, log);
      assert.deepEqual(await signedIn.listTools(), USER_TOOLS);
      assert.match(text(await signedIn.callTool('user_profile')), /• Username: demo/);
      await signedIn.close();
    });
  }
});
