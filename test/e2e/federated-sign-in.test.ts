/**
 * Issue #11 acceptance for federated sign-in, in headless Chromium with the official v2 client:
 * Sekisho is configured only through SEKISHO_UPSTREAM_* and signs people in at a second, independent
 * OpenID provider (its own issuer on another loopback port, its own users and groups). The client
 * discovers everything from a 401, registers, and opens the authorization URL; the user clicks
 * "Sign in with Acme SSO" on Sekisho's page, signs in on the provider's page, comes back, consents,
 * and the client uses the tools with Sekisho's own token — then steps up to mcp:admin (the user's
 * group maps to admin), which needs no second upstream sign-in (Sekisho's session holds).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserUnavailable, launchBrowser, startCallbackServer } from '../helpers/browser.ts';
import { type ForeignProvider, startForeignProvider } from '../helpers/foreign-provider.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { connect, type Exchange, finishAuth, isUnauthorized, text } from './support/mcp-clients.ts';
import { MemoryOAuthProvider } from './support/oauth-provider.ts';

const skip = browserUnavailable();
const SECRET = 'e2e-upstream-secret-0123456789abcdef';

let idp: ForeignProvider;
let srv: TestServer;
let browser: Browser;
let callback: Awaited<ReturnType<typeof startCallbackServer>>;

before(async () => {
  if (skip) return;
  idp = await startForeignProvider({
    users: [
      {
        username: 'hana',
        password: 'hana-pw',
        name: 'Hana Sato',
        email: 'hana@acme.test',
        groups: ['sekisho-admins'],
      },
      {
        username: 'kenji',
        password: 'kenji-pw',
        name: 'Kenji',
        email: 'kenji@acme.test',
        groups: ['interns'],
      },
    ],
  });
  srv = await startTestServer({
    SEKISHO_ANONYMOUS: '0',
    SEKISHO_LOCAL_LOGIN: '0',
    SEKISHO_UPSTREAM_ISSUER: idp.issuer,
    SEKISHO_UPSTREAM_CLIENT_ID: 'sekisho',
    SEKISHO_UPSTREAM_CLIENT_SECRET: SECRET,
    SEKISHO_UPSTREAM_NAME: 'Acme SSO',
    SEKISHO_UPSTREAM_SCOPES: 'openid email profile groups',
    // No mapping configured: the conventional admin group (sekisho-admins) makes admins; nobody
    // else is admitted.
    SEKISHO_UPSTREAM_DEFAULT_ROLE: 'none',
  });
  idp.addClient({
    client_id: 'sekisho',
    client_secret: SECRET,
    redirect_uris: [`${srv.url}/upstream/callback`],
  });
  browser = await launchBrowser();
  callback = await startCallbackServer();
});
after(async () => {
  await browser?.close();
  await callback?.close();
  await srv?.close();
  await idp?.close();
});

/** Which pages the browser went through, in order. */
type Step = 'sekisho-login' | 'provider-login' | 'consent';

/**
 * Drives one authorization URL to the client's redirect: "Sign in with Acme SSO" on Sekisho's page,
 * the provider's form, Sekisho's consent. Returns the redirect and the pages seen; throws with the
 * page text when something else appears.
 */
async function authorizeThroughUpstream(
  context: BrowserContext,
  url: URL,
  credentials: { username: string; password: string },
): Promise<{ callback: URL | undefined; steps: Step[]; page: string }> {
  const page = await context.newPage();
  const steps: Step[] = [];
  try {
    await page.goto(url.href, { waitUntil: 'load' });
    for (let i = 0; i < 10; i++) {
      if (page.url().startsWith(callback.url)) return { callback: new URL(page.url()), steps, page: '' };
      if (await page.locator('form.upstream button').count()) {
        steps.push('sekisho-login');
        await submit(page, () => page.getByRole('button', { name: 'Sign in with Acme SSO' }).click());
      } else if (await page.locator('form#foreign-login').count()) {
        if (steps.includes('provider-login')) throw new Error(`provider sign-in failed: ${await body(page)}`);
        steps.push('provider-login');
        await page.fill('#foreign-username', credentials.username);
        await page.fill('#foreign-password', credentials.password);
        await submit(page, () => page.click('button[form="foreign-login"]'));
      } else if (await page.locator('form#consent').count()) {
        steps.push('consent');
        await submit(page, () => page.click('button[form="consent"]'));
      } else {
        return { callback: undefined, steps, page: await body(page) };
      }
    }
    throw new Error(`no redirect to the client: ${steps.join(' → ')}`);
  } finally {
    await page.close();
  }
}

async function submit(page: Page, act: () => Promise<unknown>) {
  const before = page.url();
  await Promise.all([
    page.waitForURL((u) => u.href !== before, { waitUntil: 'load', timeout: 20_000 }).catch(() => {}),
    act(),
  ]);
}

async function body(page: Page): Promise<string> {
  return (
    (await page
      .locator('body')
      .textContent()
      .catch(() => '')) ?? ''
  )
    .replace(/\s+/g, ' ')
    .slice(0, 400);
}

describe('federated sign-in with the official v2 client in Chromium', { skip }, () => {
  let context: BrowserContext;
  let provider: MemoryOAuthProvider;
  const log: Exchange[] = [];
  before(async () => {
    if (skip) return;
    context = await browser.newContext();
    provider = new MemoryOAuthProvider({ redirectUrl: callback.url });
  });
  after(() => context?.close());

  it('discovers, registers, signs in at the foreign provider through Sekisho’s page, and uses the tools as the provisioned admin', async () => {
    await assert.rejects(connect('v2-modern', srv.mcpUrl, provider, log), (e) => isUnauthorized(e));
    const url = provider.lastAuthorizationUrl();
    assert.equal(url.origin, srv.url, 'the client talks to Sekisho, not to the provider');
    const auth = await authorizeThroughUpstream(context, url, { username: 'hana', password: 'hana-pw' });
    assert.ok(auth.callback, `no redirect back: ${auth.page}`);
    assert.deepEqual(auth.steps, ['sekisho-login', 'provider-login', 'consent']);
    assert.equal(auth.callback.searchParams.get('iss'), srv.url, 'Sekisho is the issuer the client sees');
    await finishAuth('v2-modern', srv.mcpUrl, provider, auth.callback, log);

    // The client holds Sekisho's token, audience /mcp — never the provider's.
    const token = provider.currentTokens!.access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims.iss, srv.url);
    assert.equal(claims.aud, srv.mcpUrl);
    assert.ok(
      !log.some((e) => new URL(e.url).origin === new URL(idp.issuer).origin),
      'the client never met the provider',
    );

    const link = await srv.sekisho.storage.findExternalIdentity(idp.issuer, idp.subjectOf('hana'));
    const user = await srv.sekisho.storage.findUserById(link!.userId);
    assert.equal(user?.role, 'admin', 'sekisho-admins → admin');
    assert.equal(user?.name, 'Hana Sato');

    const session = await connect('v2-modern', srv.mcpUrl, provider, log);
    try {
      const profile = text(await session.callTool('user_profile'));
      assert.match(profile, /Name: Hana Sato/);
      assert.match(profile, /Role: admin/);
    } finally {
      await session.close();
    }
  });

  it('steps up to mcp:admin: 403 insufficient_scope → re-authorize (no second upstream sign-in) → admin_panel works', async () => {
    const session = await connect('v2-modern', srv.mcpUrl, provider, log);
    const before = provider.authorizationUrls.length;
    await assert.rejects(session.callTool('admin_panel', { action: 'user_stats' }), (e) => isUnauthorized(e));
    await session.close();
    const challenge = log.findLast((e) => e.status === 403)?.wwwAuthenticate ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="mcp:admin"/);
    assert.equal(provider.authorizationUrls.length, before + 1);
    const stepUp = provider.lastAuthorizationUrl();
    assert.ok(stepUp.searchParams.get('scope')?.split(' ').includes('mcp:admin'));
    const signInsBefore = idp.signIns;
    const auth = await authorizeThroughUpstream(context, stepUp, { username: 'hana', password: 'hana-pw' });
    assert.ok(auth.callback, `no redirect back: ${auth.page}`);
    assert.deepEqual(auth.steps, ['consent'], 'Sekisho’s session holds: consent to the wider scope only');
    assert.equal(idp.signIns, signInsBefore);
    await finishAuth('v2-modern', srv.mcpUrl, provider, auth.callback, log);
    const upgraded = await connect('v2-modern', srv.mcpUrl, provider, log);
    try {
      const stats = await upgraded.callTool('admin_panel', { action: 'user_stats' });
      assert.equal(stats.isError, undefined, text(stats));
      assert.match(text(stats), /Users: 1 \(1 admin/);
    } finally {
      await upgraded.close();
    }
  });

  it('an unadmitted user is shown the refusal page in the browser and no account is made', async () => {
    const other = await browser.newContext();
    try {
      const p = new MemoryOAuthProvider({ redirectUrl: callback.url });
      await assert.rejects(connect('v2-modern', srv.mcpUrl, p, []), (e) => isUnauthorized(e));
      const auth = await authorizeThroughUpstream(other, p.lastAuthorizationUrl(), {
        username: 'kenji',
        password: 'kenji-pw',
      });
      assert.equal(auth.callback, undefined);
      assert.deepEqual(auth.steps, ['sekisho-login', 'provider-login']);
      assert.match(auth.page, /This account may not use this server/);
      assert.match(auth.page, /account_not_admitted/);
      assert.equal(
        await srv.sekisho.storage.findExternalIdentity(idp.issuer, idp.subjectOf('kenji')),
        undefined,
      );
    } finally {
      await other.close();
    }
  });
});
