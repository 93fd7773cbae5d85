/**
 * Federated sign-in over real HTTP, without a browser: Sekisho (configured only through the
 * SEKISHO_UPSTREAM_* environment) signs users in at an independent OpenID provider on another
 * loopback port (test/helpers/foreign-provider.ts), provisions them by (issuer, subject) with the
 * role their group maps to, and stays the authorization server its MCP clients talk to. Every
 * check of the upstream answer is proven by a provider or a network that misbehaves: mix-up (`iss`),
 * nonce, audience, expiry, state replay/theft/expiry, and users the rules do not admit.
 *
 * SEKISHO_TEST_BACKEND=postgres runs the same file on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BrowserlessLoginError, CookieJar } from '../helpers/browserless-login.ts';
import { federatedLogin } from '../helpers/federated-login.ts';
import { type ForeignProvider, startForeignProvider } from '../helpers/foreign-provider.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import {
  authorizeUrl,
  exchangeCode,
  pkce,
  type RegisteredClient,
  refresh,
  registerClient,
} from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SECRET = 'sekisho-at-acme-secret-0123456789';

let idp: ForeignProvider;
let srv: TestServer;
let client: RegisteredClient;

before(async () => {
  idp = await startForeignProvider({
    users: [
      {
        username: 'alice',
        password: 'alice-pw',
        name: 'Alice Admin',
        email: 'alice@acme.test',
        groups: ['sekisho-admins', 'staff'],
      },
      { username: 'bob', password: 'bob-pw', name: 'Bob', email: 'bob@acme.test', groups: ['staff'] },
      {
        username: 'carol',
        password: 'carol-pw',
        name: 'Carol',
        email: 'carol@acme.test',
        groups: ['contractors'],
      },
      // Same e-mail as alice at the same provider, another subject: must never become alice.
      {
        username: 'mallory',
        password: 'mallory-pw',
        email: 'alice@acme.test',
        emailVerified: false,
        groups: ['staff'],
      },
    ],
  });
  srv = await startTestServer({
    SEKISHO_ANONYMOUS: '0',
    SEKISHO_UPSTREAM_ISSUER: idp.issuer,
    SEKISHO_UPSTREAM_CLIENT_ID: 'sekisho',
    SEKISHO_UPSTREAM_CLIENT_SECRET: SECRET,
    SEKISHO_UPSTREAM_NAME: 'Acme SSO',
    SEKISHO_UPSTREAM_SCOPES: 'openid email profile groups',
    SEKISHO_UPSTREAM_ADMIN_GROUPS: 'sekisho-admins',
    SEKISHO_UPSTREAM_USER_GROUPS: 'staff',
    SEKISHO_UPSTREAM_DEFAULT_ROLE: 'none',
  });
  idp.addClient({
    client_id: 'sekisho',
    client_secret: SECRET,
    redirect_uris: [`${srv.url}/upstream/callback`],
  });
  client = await registerClient(srv.url);
});
after(async () => {
  await srv?.close();
  await idp?.close();
});

async function start(username: string, opts: Partial<Parameters<typeof federatedLogin>[1]> = {}) {
  const { verifier, challenge } = pkce();
  const url = authorizeUrl(srv.url, {
    clientId: client.client_id,
    redirectUri: client.redirect_uris[0],
    challenge,
    state: 'client-state',
    resource: srv.mcpUrl,
  });
  const flow = await federatedLogin(url, { username, password: `${username}-pw`, sekisho: srv.url, ...opts });
  return { flow, verifier };
}

async function signIn(username: string, opts: Partial<Parameters<typeof federatedLogin>[1]> = {}) {
  const { flow, verifier } = await start(username, opts);
  const code = flow.callback.searchParams.get('code');
  assert.ok(code, `no code in ${flow.callback.href}`);
  const tokens = await exchangeCode(srv.url, {
    clientId: client.client_id,
    code,
    verifier,
    redirectUri: client.redirect_uris[0],
    resource: srv.mcpUrl,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return { flow, tokens: tokens.body as { access_token: string; refresh_token?: string } };
}

/** The refused page: status and the error code it shows. */
async function refused(promise: Promise<unknown>): Promise<{ status: number; html: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BrowserlessLoginError) {
      const last = err.pages.at(-1)!;
      return { status: last.status, html: last.html };
    }
    throw err;
  }
  assert.fail('the sign-in was not refused');
}

const linkOf = (username: string) =>
  srv.sekisho.storage.findExternalIdentity(idp.issuer, idp.subjectOf(username));

/** The user_profile tool's text, called with a Sekisho access token. */
async function whoAmI(token: string): Promise<string> {
  const res = await modernPost(
    srv.mcpUrl,
    'tools/call',
    { name: 'user_profile', arguments: {} },
    { headers: { authorization: `Bearer ${token}` } },
  );
  assert.equal(res.status, 200, res.text);
  const content = (res.body?.result?.content ?? []) as { text?: string }[];
  return content.map((c) => c.text ?? '').join('\n');
}

describe('federated sign-in through an upstream OpenID provider', () => {
  it('shows "Sign in with Acme SSO" next to the password form, and the redirect URI is Sekisho’s callback', async () => {
    const { challenge } = pkce();
    const url = authorizeUrl(srv.url, { clientId: client.client_id, challenge, resource: srv.mcpUrl });
    const jar = new CookieJar();
    let res = await jar.fetch(url);
    res = await jar.fetch(new URL(res.headers.get('location')!, url));
    const html = await res.text();
    assert.match(html, /<button type="submit" class="primary">Sign in with Acme SSO<\/button>/);
    assert.match(html, /id="login"/, 'password sign-in still offered');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(
      csp,
      new RegExp(`form-action 'self'[^;]*${new URL(idp.issuer).origin.replace(/\./g, '\\.')}`),
    );
  });

  it('provisions alice just in time with the role her group maps to (admin), keyed by issuer and subject', async () => {
    const { flow, tokens } = await signIn('alice');
    const toProvider = flow.upstreamCallback!;
    assert.equal(toProvider.searchParams.get('iss'), idp.issuer, 'the provider sent RFC 9207 iss');
    const link = await linkOf('alice');
    assert.ok(link, 'linked by (issuer, subject)');
    const user = await srv.sekisho.storage.findUserById(link.userId);
    assert.equal(user?.role, 'admin');
    assert.equal(user?.username, 'alice');
    assert.equal(user?.name, 'Alice Admin');
    assert.equal(user?.email, 'alice@acme.test');
    assert.deepEqual(link.claims.groups, ['sekisho-admins', 'staff']);
    assert.ok(!JSON.stringify(link.claims).includes('eyJ'), 'no token stored with the link');
    // Sekisho's own token, for /mcp — never the provider's.
    const profile = await whoAmI(tokens.access_token);
    assert.match(profile, /Username: alice/);
    assert.match(profile, /Role: admin/);
    // The local password form cannot be used for a provisioned account.
    const local = await srv.sekisho.identity.authenticate('alice', 'alice-pw', '127.0.0.9');
    assert.equal(local.ok, false);
    // Audited like a local sign-in: the account made just in time, then the sign-in.
    const records = await srv.sekisho.storage.listAudit({ userId: user!.id });
    const created = records.find((r) => r.type === 'user.created');
    assert.equal(created?.details.via, 'upstream');
    const signedIn = records.find((r) => r.type === 'signin.succeeded' && r.details.via === 'upstream');
    assert.equal(signedIn?.details.created, true);
  });

  it('a disabled account cannot sign in through the provider either (403), and the refusal is audited', async () => {
    const link = await linkOf('alice');
    await srv.sekisho.identity.setDisabled('alice', true);
    try {
      const page = await refused(start('alice'));
      assert.equal(page.status, 403);
      const failed = await srv.sekisho.storage.listAudit({ userId: link!.userId, types: ['signin.failed'] });
      assert.equal(failed[0]?.details.reason, 'disabled');
    } finally {
      await srv.sekisho.identity.setDisabled('alice', false);
    }
  });

  it('bob gets the user role; an unverified e-mail equal to alice’s never reaches alice’s account', async () => {
    await signIn('bob');
    const bob = await srv.sekisho.storage.findUserById((await linkOf('bob'))!.userId);
    assert.equal(bob?.role, 'user');
    await signIn('mallory');
    const mallory = await linkOf('mallory');
    const alice = await linkOf('alice');
    assert.notEqual(mallory!.userId, alice!.userId, 'a new account, not alice');
    const user = await srv.sekisho.storage.findUserById(mallory!.userId);
    assert.equal(user?.email, '', 'an unverified address is not shown as the user’s');
    assert.notEqual(user?.username, 'alice');
  });

  it('refuses a user no rule admits (403 account_not_admitted) and creates nobody', async () => {
    const before = (await srv.sekisho.storage.listUsers()).length;
    const page = await refused(start('carol'));
    assert.equal(page.status, 403);
    assert.match(page.html, /account_not_admitted/);
    assert.equal((await srv.sekisho.storage.listUsers()).length, before);
    assert.equal(await linkOf('carol'), undefined);
  });

  it('refuses a mix-up: the authorization response names another issuer (RFC 9207)', async () => {
    for (const iss of ['https://evil.example', `${idp.issuer}/`]) {
      const page = await refused(
        start('bob', {
          toCallback: (url) => {
            url.searchParams.set('iss', iss);
            return url;
          },
        }),
      );
      assert.equal(page.status, 400, iss);
      assert.match(page.html, /upstream_sign_in_failed/);
      assert.match(page.html, /&quot;iss&quot;|"iss"/, 'refused for its iss');
    }
    const page = await refused(
      start('bob', {
        toCallback: (url) => {
          url.searchParams.delete('iss');
          return url;
        },
      }),
    );
    assert.equal(page.status, 400, 'iss missing while the provider advertises it');
  });

  it('refuses an ID token for another nonce', async () => {
    const page = await refused(
      start('bob', {
        toProvider: (url) => {
          url.searchParams.set('nonce', 'attacker-chosen-nonce');
          return url;
        },
      }),
    );
    assert.equal(page.status, 400);
    assert.match(page.html, /upstream_sign_in_failed/);
    assert.match(page.html, /nonce/, 'refused for its nonce');
  });

  for (const [what, tamper, claim] of [
    ['another audience', (c: Record<string, unknown>) => ({ ...c, aud: 'some-other-client' }), 'aud'],
    [
      'another issuer in the token',
      (c: Record<string, unknown>) => ({ ...c, iss: 'https://evil.example' }),
      'iss',
    ],
    ['an expired token', (c: Record<string, unknown>) => ({ ...c, iat: 1_000_000, exp: 1_000_300 }), 'exp'],
  ] as const) {
    it(`refuses an ID token with ${what}`, async () => {
      idp.tamperIdToken(tamper);
      try {
        const page = await refused(start('bob'));
        assert.equal(page.status, 400);
        assert.match(page.html, /upstream_sign_in_failed/);
        assert.match(page.html, new RegExp(`(&quot;|")${claim}(&quot;|")`), `refused for its ${claim}`);
      } finally {
        idp.tamperIdToken(undefined);
      }
    });
  }

  for (const signWith of ['stranger', 'none'] as const) {
    it(`refuses an ID token ${signWith === 'none' ? 'without a signature (alg none)' : 'signed by another key under the provider’s kid'}`, async () => {
      idp.tamperIdToken((claims) => claims, signWith);
      try {
        const page = await refused(start('bob'));
        assert.equal(page.status, 400);
        assert.match(page.html, /upstream_sign_in_failed/);
        assert.match(page.html, signWith === 'none' ? /alg|algorithm/i : /signature/i);
      } finally {
        idp.tamperIdToken(undefined);
      }
    });
  }

  it('a callback is single-use, bound to the browser that started it, and expires', async () => {
    const { flow } = await signIn('bob');
    const callback = flow.upstreamCallback!;
    // Replayed in the same browser: the round trip was used.
    const replay = await flow.jar.fetch(callback, { headers: { accept: 'text/html' } });
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /upstream_state_invalid/);

    // Carried to another browser (a stolen or injected response): refused before the code is used.
    let stolen: URL | undefined;
    await refused(
      start('bob', {
        toCallback: (url) => {
          stolen = url;
          return new URL('/healthz', srv.url); // the victim's browser never arrives
        },
        maxSteps: 12,
      }),
    ).catch(() => {});
    assert.ok(stolen);
    const elsewhere = await new CookieJar().fetch(stolen, { headers: { accept: 'text/html' } });
    assert.equal(elsewhere.status, 403);
    assert.match(await elsewhere.text(), /upstream_state_invalid/);

    // Expired: the stored round trip outlived its lifetime.
    const page = await refused(
      start('bob', {
        toCallback: (url) => {
          const id = createHash('sha256').update(url.searchParams.get('state')!).digest('base64url');
          void srv.sekisho.storage.destroy('UpstreamLogin', id);
          return url;
        },
      }),
    );
    assert.equal(page.status, 400);
    assert.match(page.html, /upstream_state_invalid/);
  });

  it('abuse of the start and callback routes: no CSRF, unknown provider, finished interaction, bad state', async () => {
    const { challenge } = pkce();
    const url = authorizeUrl(srv.url, { clientId: client.client_id, challenge, resource: srv.mcpUrl });
    const jar = new CookieJar();
    const interaction = new URL((await jar.fetch(url)).headers.get('location')!, url);
    const html = await (await jar.fetch(interaction)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = (path: string, body: Record<string, string>) =>
      jar.fetch(`${interaction.href}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams(body).toString(),
      });
    assert.equal((await post('/upstream/keycloak', {})).status, 403, 'no CSRF token');
    assert.equal((await post('/upstream/keycloak', { csrf: 'forged' })).status, 403, 'forged CSRF token');
    assert.equal((await post('/upstream/nobody', { csrf })).status, 404, 'unknown provider');
    const other = await new CookieJar().fetch(`${interaction.href}/upstream/127-0-0-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    assert.equal(other.status, 400, 'another browser (no interaction cookie)');
    const started = await post('/upstream/127-0-0-1', { csrf });
    assert.equal(started.status, 303);
    assert.ok(started.headers.get('location')!.startsWith(idp.issuer));
    for (const query of [
      '',
      '?state=',
      `?state=${'a'.repeat(600)}`,
      '?state=unknown&code=x',
      '?code=x&iss=x',
    ]) {
      const res = await jar.fetch(`${srv.url}/upstream/callback${query}`, {
        headers: { accept: 'text/html' },
      });
      assert.equal(res.status, 400, query);
      assert.match(await res.text(), /upstream_state_invalid/);
    }
  });

  it('refreshes the profile at each sign-in and applies a lower role', async () => {
    idp.upsertUser({
      username: 'bob',
      password: 'bob-pw',
      name: 'Robert',
      email: 'robert@acme.test',
      groups: ['staff', 'sekisho-admins'],
    });
    await signIn('bob');
    const link = (await linkOf('bob'))!;
    let bob = await srv.sekisho.storage.findUserById(link.userId);
    assert.equal(bob?.name, 'Robert');
    assert.equal(bob?.email, 'robert@acme.test');
    assert.equal(bob?.role, 'admin');
    idp.setGroups('bob', ['staff']);
    await signIn('bob');
    bob = await srv.sekisho.storage.findUserById(link.userId);
    assert.equal(bob?.role, 'user');
  });

  it('a user the rules no longer admit loses access: at sign-in (everything revoked) and at the next refresh', async () => {
    // At the next sign-in: bob left every admitted group at the provider.
    const { tokens } = await signIn('bob');
    assert.ok(tokens.refresh_token, 'a refresh token was issued');
    assert.match(await whoAmI(tokens.access_token), /Username: bob/);
    idp.setGroups('bob', ['former-staff']);
    const page = await refused(start('bob'));
    assert.equal(page.status, 403);
    const res = await fetch(srv.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(res.status, 401, 'the access token died with the grant');
    const again = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.refresh_token!,
      resource: srv.mcpUrl,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');

    // At the next refresh, without any sign-in: the rules (here: the claims they judge) no longer admit.
    idp.setGroups('bob', ['staff']);
    const second = await signIn('bob');
    const link = (await linkOf('bob'))!;
    await srv.sekisho.storage.linkExternalIdentity({ ...link, claims: { ...link.claims, groups: ['gone'] } });
    const refused2 = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: second.tokens.refresh_token!,
      resource: srv.mcpUrl,
    });
    assert.equal(refused2.status, 400);
    assert.equal(refused2.body.error, 'invalid_grant');
  });
});

describe('SEKISHO_LOCAL_LOGIN=0', () => {
  let only: TestServer;
  before(async () => {
    only = await startTestServer({
      SEKISHO_LOCAL_LOGIN: '0',
      SEKISHO_DEMO: '1',
      SEKISHO_UPSTREAM_ISSUER: idp.issuer,
      SEKISHO_UPSTREAM_CLIENT_ID: 'sekisho-2',
      SEKISHO_UPSTREAM_CLIENT_SECRET: SECRET,
    });
    idp.addClient({
      client_id: 'sekisho-2',
      client_secret: SECRET,
      redirect_uris: [`${only.url}/upstream/callback`],
    });
  });
  after(() => only?.close());

  it('shows only the provider button, refuses a posted password, and still signs in through the provider', async () => {
    const c = await registerClient(only.url);
    const { challenge } = pkce();
    const url = authorizeUrl(only.url, { clientId: c.client_id, challenge, resource: only.mcpUrl });
    const jar = new CookieJar();
    let res = await jar.fetch(url);
    const interaction = new URL(res.headers.get('location')!, url);
    res = await jar.fetch(interaction);
    const html = await res.text();
    assert.doesNotMatch(html, /id="login"/);
    assert.doesNotMatch(html, /demo123/, 'no demo passwords without password sign-in');
    assert.match(html, /Sign in with OpenID Connect/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = await jar.fetch(`${interaction.href}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ csrf, username: 'demo', password: 'demo123' }).toString(),
    });
    assert.equal(post.status, 403);
    const flow = await federatedLogin(url, { username: 'bob', password: 'bob-pw', sekisho: only.url });
    assert.ok(flow.callback.searchParams.get('code'));

    // The account page: no password form; the browser's Sekisho session (from that sign-in) opens it.
    const stranger = new CookieJar();
    const account = await (await stranger.fetch(`${only.url}/account`)).text();
    assert.doesNotMatch(account, /id="login"/);
    assert.match(account, /Sign-in with a Sekisho password is turned off on this server\./);
    const accountCsrf = /name="csrf" value="([^"]+)"/.exec(account)?.[1] ?? '';
    const posted = await stranger.fetch(`${only.url}/account/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ csrf: accountCsrf, username: 'demo', password: 'demo123' }).toString(),
    });
    assert.equal(
      posted.status,
      403,
      'a posted password is refused (there is not even a form to take a token from)',
    );
    const mine = await (await flow.jar.fetch(`${only.url}/account`)).text();
    assert.match(mine, /Acme|Test client/, 'signed in through the provider, the account page lists the app');
  });
});

describe('several providers (SEKISHO_UPSTREAMS)', () => {
  let second: ForeignProvider;
  let multi: TestServer;
  let app: RegisteredClient;
  before(async () => {
    // Another organisation's provider with a user of the same name and e-mail as alice at the first.
    second = await startForeignProvider({
      issuerPath: '/realms/partner',
      users: [
        { username: 'alice', password: 'alice-pw', email: 'alice@acme.test', groups: ['sekisho-admins'] },
      ],
    });
    multi = await startTestServer({
      SEKISHO_UPSTREAMS: JSON.stringify([
        // Groups are released only for the groups scope at this provider (as at Okta).
        {
          id: 'acme',
          name: 'Acme SSO',
          issuer: idp.issuer,
          clientId: 'sekisho-m',
          clientSecret: SECRET,
          scopes: 'openid email profile groups',
        },
        {
          id: 'partner',
          name: 'Partner',
          issuer: second.issuer,
          clientId: 'sekisho-m',
          clientSecret: SECRET,
          adminGroups: [],
        },
      ]),
    });
    for (const p of [idp, second]) {
      p.addClient({
        client_id: 'sekisho-m',
        client_secret: SECRET,
        redirect_uris: [`${multi.url}/upstream/callback`],
      });
    }
    app = await registerClient(multi.url);
  });
  after(async () => {
    await multi?.close();
    await second?.close();
  });

  const begin = () =>
    authorizeUrl(multi.url, { clientId: app.client_id, challenge: pkce().challenge, resource: multi.mcpUrl });

  it('one button per provider; the same name and e-mail at two issuers are two users, each with its own rules', async () => {
    const jar = new CookieJar();
    const url = begin();
    const html = await (
      await jar.fetch(new URL((await jar.fetch(url)).headers.get('location')!, url))
    ).text();
    assert.match(html, /Sign in with Acme SSO/);
    assert.match(html, /Sign in with Partner/);
    await federatedLogin(begin(), {
      username: 'alice',
      password: 'alice-pw',
      sekisho: multi.url,
      provider: 'acme',
    });
    await federatedLogin(begin(), {
      username: 'alice',
      password: 'alice-pw',
      sekisho: multi.url,
      provider: 'partner',
    });
    const a = await multi.sekisho.storage.findExternalIdentity(idp.issuer, idp.subjectOf('alice'));
    const b = await multi.sekisho.storage.findExternalIdentity(second.issuer, second.subjectOf('alice'));
    assert.ok(a && b);
    assert.notEqual(a.userId, b.userId, 'keyed by issuer and subject, not by name or e-mail');
    assert.equal(
      (await multi.sekisho.storage.findUserById(a.userId))?.role,
      'admin',
      'default admin group at Acme',
    );
    assert.equal(
      (await multi.sekisho.storage.findUserById(b.userId))?.role,
      'user',
      'Partner names no admin group',
    );
  });

  it('mix-up between configured providers: a response naming the other provider is refused', async () => {
    const page = await refused(
      federatedLogin(begin(), {
        username: 'alice',
        password: 'alice-pw',
        sekisho: multi.url,
        provider: 'partner',
        toCallback: (url) => {
          url.searchParams.set('iss', idp.issuer);
          return url;
        },
      }),
    );
    assert.equal(page.status, 400);
    assert.match(page.html, /upstream_sign_in_failed/);
  });
});
