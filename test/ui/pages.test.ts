/**
 * The login, consent, error and account pages over real HTTP: CSRF, escaping, throttling, security
 * headers, cookie attributes, language, demo accounts, and revoking an app from the account page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { secondsUntilWindowEnds } from '../../src/storage/rate-window.ts';
import { browserlessLogin, CookieJar, parseForms } from '../helpers/browserless-login.ts';
import { authorizeUrl, exchangeCode, pkce, refresh, registerClient, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv?.close());

const demo = { username: 'demo', password: 'demo123' };
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Starts an authorization request and returns the jar and the login page. */
async function openLogin(
  clientMeta: Record<string, unknown> = {},
  extra: { state?: string; lang?: string } = {},
) {
  const client = await registerClient(srv.url, clientMeta);
  const jar = new CookieJar();
  const start = await jar.fetch(
    authorizeUrl(srv.url, { clientId: client.client_id, challenge: pkce().challenge, state: extra.state }),
  );
  assert.equal(start.status, 303);
  const pageUrl = new URL(start.headers.get('location')!, srv.url);
  const page = await jar.fetch(pageUrl, { headers: extra.lang ? { 'accept-language': extra.lang } : {} });
  return { client, jar, pageUrl, res: page, html: await page.text() };
}

describe('forms are CSRF-protected', () => {
  it('refuses a login post without (or with a wrong) CSRF token: 403', async () => {
    const { jar, html } = await openLogin();
    const login = parseForms(html).find((f) => f.action.endsWith('/login'))!;
    const url = new URL(login.action, srv.url);
    const none = await jar.fetch(url, form({ username: 'demo', password: 'demo123' }));
    assert.equal(none.status, 403);
    assert.match(await none.text(), /invalid_csrf_token/);
    const wrong = await jar.fetch(url, form({ csrf: 'x'.repeat(43), username: 'demo', password: 'demo123' }));
    assert.equal(wrong.status, 403);
    await wrong.body?.cancel();
    // The real token still works afterwards.
    const ok = await jar.fetch(url, form({ ...login.fields, username: 'demo', password: 'demo123' }));
    assert.equal(ok.status, 303);
  });

  it('refuses a consent post without CSRF, and a post from a browser without the interaction cookie', async () => {
    const { jar, html } = await openLogin();
    const login = parseForms(html).find((f) => f.action.endsWith('/login'))!;
    let res = await jar.fetch(new URL(login.action, srv.url), form({ ...login.fields, ...demo }));
    for (let i = 0; i < 3 && res.status === 303; i++) {
      res = await jar.fetch(new URL(res.headers.get('location')!, srv.url));
    }
    const consentHtml = await res.text();
    const consent = parseForms(consentHtml).find((f) => f.action.endsWith('/consent'))!;
    assert.ok(consent, 'consent page');
    const url = new URL(consent.action, srv.url);
    const none = await jar.fetch(url, form({}));
    assert.equal(none.status, 403);
    await none.body?.cancel();
    // A cross-site post carries the token it scraped but not this browser's interaction cookie.
    const foreign = await fetch(url, { ...form(consent.fields), redirect: 'manual' });
    assert.equal(foreign.status, 400);
    assert.match(await foreign.text(), /session_not_found/);
  });
});

describe('escaping', () => {
  it('renders <script> in client_name and state as inert text', async () => {
    const evil = '<script>alert(1)</script>';
    const { client, html } = await openLogin({ client_name: `Evil ${evil}` }, { state: evil });
    assert.ok(!html.includes('<script'), 'no raw script tag on the login page');
    assert.ok(html.includes('Evil &lt;script&gt;alert(1)&lt;/script&gt;'));
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, { clientId: client.client_id, challenge: pkce().challenge, state: evil }),
      demo,
    );
    for (const page of flow.pages) assert.ok(!page.html.includes('<script'), page.url);
    assert.ok(flow.pages.some((p) => p.html.includes('&lt;script&gt;')));
    assert.equal(flow.callback.searchParams.get('state'), evil);
  });
});

describe('sign-in', () => {
  it('says the same thing for an unknown user and a wrong password, then throttles with a clear message', async () => {
    const { jar, html } = await openLogin();
    const login = parseForms(html).find((f) => f.action.endsWith('/login'))!;
    const url = new URL(login.action, srv.url);
    const unknown = await jar.fetch(url, form({ ...login.fields, username: 'nobody', password: 'x' }));
    const unknownHtml = await unknown.text();
    assert.equal(unknown.status, 401);
    assert.match(unknownHtml, /The username or password is incorrect\./);
    // Throttle windows are fixed (aligned to the epoch): eleven attempts straddling a boundary would
    // start counting again. Begin in a fresh stretch of the window (waits ≤ 30 s, rarely).
    const left = secondsUntilWindowEnds(srv.sekisho.config.login.windowSeconds, Date.now());
    if (left < 30) await new Promise((r) => setTimeout(r, (left + 1) * 1000));
    const statuses: number[] = [];
    let last = '';
    for (let i = 0; i < 10; i++) {
      const res = await jar.fetch(url, form({ ...login.fields, username: 'admin', password: `wrong-${i}` }));
      statuses.push(res.status);
      last = await res.text();
      if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) > 0);
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.deepEqual(statuses.slice(5), [429, 429, 429, 429, 429]);
    assert.match(last, /Too many sign-in attempts\. Please wait about \d+ minutes? and try again\./);
    // Even the right password is refused while throttled.
    const right = await jar.fetch(url, form({ ...login.fields, username: 'admin', password: 'admin123' }));
    assert.equal(right.status, 429);
    await right.body?.cancel();
  });

  it('lists the demo accounts in demo mode only, marked demo-only', async () => {
    const { html } = await openLogin();
    assert.match(html, /Demo accounts/);
    assert.match(html, /demo123/);
    assert.match(html, /Demo mode only/);
    const plain = await startTestServer();
    try {
      await plain.sekisho.identity.addUser({ username: 'alice', password: 'correct horse battery' });
      const client = await registerClient(plain.url);
      const flow = await browserlessLogin(
        authorizeUrl(plain.url, { clientId: client.client_id, challenge: pkce().challenge }),
        { username: 'alice', password: 'correct horse battery' },
      );
      assert.ok(!flow.pages[0]!.html.includes('Demo accounts'));
      assert.ok(flow.callback.searchParams.get('code'));
    } finally {
      await plain.close();
    }
  });

  it('speaks Japanese when the browser prefers it', async () => {
    const { res, html } = await openLogin({}, { lang: 'ja,en-US;q=0.8' });
    assert.equal(res.headers.get('content-language'), 'ja');
    assert.match(html, /<html lang="ja">/);
    assert.match(html, /サインイン/);
    const en = await openLogin({}, { lang: 'en-US,ja;q=0.5' });
    assert.match(en.html, /<html lang="en">/);
  });
});

describe('headers and cookies', () => {
  it('sends CSP without scripts, frame-ancestors none, nosniff, no-referrer and no-store', async () => {
    const { res } = await openLogin();
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /style-src 'self'/);
    assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:53682/);
    assert.ok(!csp.includes('unsafe-inline'));
    assert.ok(!csp.includes('script-src'));
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const css = await fetch(`${srv.url}/static/sekisho.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    await css.body?.cancel();
  });

  it('error pages from oidc-provider carry the same headers', async () => {
    const res = await fetch(`${srv.url}/oauth/authorize?client_id=nope&response_type=code`, {
      redirect: 'manual',
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(await res.text(), /not registered here/);
  });

  it('sets HttpOnly SameSite=Lax cookies; __Host-/__Secure- and Secure when the base URL is https', async () => {
    const attrs = async (baseUrl: string, origin: string) => {
      const client = await registerClient(origin);
      const res = await fetch(
        authorizeUrl(origin, { clientId: client.client_id, challenge: pkce().challenge }),
        {
          redirect: 'manual',
        },
      );
      assert.equal(res.status, 303, baseUrl);
      await res.body?.cancel();
      return res.headers.getSetCookie();
    };
    for (const c of await attrs(srv.url, srv.url)) {
      assert.match(c, /httponly/i);
      assert.match(c, /samesite=lax/i);
      assert.ok(!/;\s*secure/i.test(c), c);
    }
    const tls = await startTestServer({ SEKISHO_BASE_URL: 'https://sekisho.test' });
    try {
      const cookies = await attrs('https://sekisho.test', tls.loopbackUrl);
      assert.ok(cookies.length > 0);
      for (const c of cookies) {
        assert.match(c, /^__(Host|Secure)-sekisho_/);
        assert.match(c, /;\s*secure/i);
        assert.match(c, /httponly/i);
        if (c.startsWith('__Host-')) assert.match(c, /path=\/;/i);
      }
    } finally {
      await tls.close();
    }
  });
});

describe('account page', () => {
  it('signs in, lists the authorized apps and revokes one, after which its refresh token fails', async () => {
    const { client, tokens } = await signIn(srv.url, demo, {
      client: await registerClient(srv.url, { client_name: 'My Agent' }),
    });
    const jar = new CookieJar();
    const first = await jar.fetch(`${srv.url}/account`);
    const signInHtml = await first.text();
    const login = parseForms(signInHtml).find((f) => f.action === '/account/login')!;
    assert.ok(login, 'account sign-in form');
    const noCsrf = await jar.fetch(`${srv.url}/account/login`, form(demo));
    assert.equal(noCsrf.status, 403);
    await noCsrf.body?.cancel();
    const signedIn = await jar.fetch(`${srv.url}/account/login`, form({ ...login.fields, ...demo }));
    assert.equal(signedIn.status, 303);
    assert.ok(jar.names(srv.url).includes('sekisho_account'));
    const page = await jar.fetch(`${srv.url}/account`);
    const html = await page.text();
    assert.match(html, /My Agent/);
    assert.match(html, /mcp:tools/);
    const revoke = parseForms(html).find(
      (f) => f.action === '/account/revoke' && f.fields.client_id === client.client_id,
    )!;
    assert.ok(revoke);
    const refused = await jar.fetch(`${srv.url}/account/revoke`, form({ client_id: client.client_id }));
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    const done = await jar.fetch(`${srv.url}/account/revoke`, form(revoke.fields));
    assert.equal(done.status, 303);
    const after = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(after.status, 400);
    assert.equal(after.body.error, 'invalid_grant');
    const confirm = await (await jar.fetch(new URL(done.headers.get('location')!, srv.url))).text();
    assert.match(confirm, /Access for My Agent was revoked\./);
    assert.ok(!confirm.includes(`value="${client.client_id}"`));
  });

  it('uses the authorization server sign-in session: no second login right after approving an app', async () => {
    const { flow } = await signIn(srv.url, demo, {
      client: await registerClient(srv.url, { client_name: 'SSO app' }),
    });
    const page = await flow.jar.fetch(`${srv.url}/account`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /SSO app/);
    const logout = parseForms(html).find((f) => f.action === '/account/logout')!;
    const out = await flow.jar.fetch(`${srv.url}/account/logout`, form(logout.fields));
    assert.equal(out.status, 303);
    const again = await (await flow.jar.fetch(`${srv.url}/account`)).text();
    assert.ok(
      parseForms(again).some((f) => f.action === '/account/login'),
      'signed out',
    );
  });
});

/** Follows redirects within the server (at most a few hops); stops at the first page or foreign redirect. */
async function follow(jar: CookieJar, res: Response, base = srv.url): Promise<{ res: Response; url: URL }> {
  let url = new URL(res.url || base);
  for (let i = 0; i < 6 && res.status >= 300 && res.status < 400; i++) {
    const next = new URL(res.headers.get('location')!, url);
    await res.body?.cancel();
    if (next.origin !== new URL(base).origin) return { res, url: next };
    url = next;
    res = await jar.fetch(next);
  }
  return { res, url };
}

const switchLink = (html: string) =>
  /<nav class="lang-switch"[^>]*><a href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');

/** Authorization request → sign-in as `who` → the consent page. */
async function openConsent(
  who: { username: string; password: string },
  clientMeta: Record<string, unknown> = {},
  extra: Record<string, string> = {},
) {
  const client = await registerClient(srv.url, clientMeta);
  const { verifier, challenge } = pkce();
  const redirectUri = client.redirect_uris[0]!;
  const jar = new CookieJar();
  const start = await jar.fetch(
    authorizeUrl(srv.url, { clientId: client.client_id, redirectUri, challenge, state: 'keep-me', extra }),
  );
  const login = await follow(jar, start);
  const loginForm = parseForms(await login.res.text()).find((f) => f.action.endsWith('/login'))!;
  const posted = await jar.fetch(new URL(loginForm.action, srv.url), form({ ...loginForm.fields, ...who }));
  const consent = await follow(jar, posted);
  return { client, jar, verifier, redirectUri, res: consent.res, html: await consent.res.text() };
}

describe('language: ui_locales, the switch, the cookie', () => {
  it('honours ui_locales through the interaction; the switch keeps the page and is remembered over ui_locales', async () => {
    const client = await registerClient(srv.url);
    const jar = new CookieJar();
    const start = await jar.fetch(
      authorizeUrl(srv.url, {
        clientId: client.client_id,
        challenge: pkce().challenge,
        extra: { ui_locales: 'ja en' },
      }),
    );
    const first = await follow(jar, start);
    const ja = await first.res.text();
    assert.equal(first.res.headers.get('content-language'), 'ja');
    assert.match(ja, /<html lang="ja">/);
    assert.match(ja, /を利用するには、サインインしてください。/);
    assert.match(first.res.headers.get('vary') ?? '', /Cookie/);

    const href = switchLink(ja)!;
    assert.equal(href, `${first.url.pathname}?lang=en`, 'the switch stays on this interaction');
    const switched = await jar.fetch(new URL(href, srv.url), { headers: { 'accept-language': 'ja' } });
    const en = await switched.text();
    assert.match(en, /<html lang="en">/);
    assert.match(en, /Sign in to continue to/);
    const cookie = switched.headers.getSetCookie().find((c) => c.startsWith('sekisho_lang='));
    assert.match(cookie ?? '', /^sekisho_lang=en; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax/);

    // The choice holds on the next pages of the same request, over ui_locales=ja and Accept-Language.
    const login = parseForms(en).find((f) => f.action.endsWith('/login'))!;
    const wrong = await jar.fetch(new URL(login.action, srv.url), {
      ...form({ ...login.fields, username: 'demo', password: 'nope' }),
      headers: { ...form({}).headers, 'accept-language': 'ja' },
    });
    const wrongHtml = await wrong.text();
    assert.equal(wrong.status, 401);
    assert.match(wrongHtml, /<html lang="en">/);
    assert.match(wrongHtml, /id="password"[^>]* autofocus>/, 'the password field has the focus');
    assert.match(wrongHtml, /value="demo"/, 'the username is kept');
    // A form post's switch goes to the page the form was on, not to the post address.
    assert.equal(switchLink(wrongHtml), `${first.url.pathname}?lang=ja`);
  });

  it('ignores a language we do not have, and sets no cookie for it', async () => {
    const { pageUrl, jar } = await openLogin({}, { lang: 'ja' });
    const res = await jar.fetch(`${pageUrl.href}?lang=fr`, { headers: { 'accept-language': 'ja' } });
    assert.match(await res.text(), /<html lang="ja">/);
    assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith('sekisho_lang=')));
  });

  it('error pages: ui_locales, plain words instead of oidc-provider wording, and a switch that replays the GET', async () => {
    const url = authorizeUrl(srv.url, {
      clientId: 'nope',
      challenge: pkce().challenge,
      extra: { ui_locales: 'ja' },
    });
    const jar = new CookieJar();
    const res = await jar.fetch(url);
    assert.equal(res.status, 400);
    const ja = await res.text();
    assert.match(ja, /<html lang="ja">/);
    assert.match(ja, /<h1>このアプリは登録されていません<\/h1>/);
    assert.match(ja, /<code>invalid_client<\/code>/);
    const outsideDetails = ja.replace(/<details[\s\S]*?<\/details>/, '');
    assert.ok(
      !/client is invalid/i.test(outsideDetails),
      'oidc-provider wording only in the folded developer details',
    );
    const switched = await jar.fetch(new URL(switchLink(ja)!, srv.url));
    const en = await switched.text();
    assert.match(en, /<html lang="en">/);
    assert.match(en, /<h1>This app is not registered here<\/h1>/);
  });
});

describe('consent: Not you? Use another account', () => {
  it('signs the browser out and restarts the same request at the sign-in page; the other account finishes it', async () => {
    const first = await openConsent(demo, { client_name: 'Switcher' }, { ui_locales: 'ja' });
    assert.match(first.html, /Demo User/);
    const switchForm = parseForms(first.html).find((f) => f.action.endsWith('/switch-account'))!;
    assert.ok(switchForm, 'Not-you form');
    const consentForm = parseForms(first.html).find((f) => f.action.endsWith('/consent'))!;

    const noCsrf = await first.jar.fetch(new URL(switchForm.action, srv.url), form({}));
    assert.equal(noCsrf.status, 403);
    await noCsrf.body?.cancel();

    const restarted = await first.jar.fetch(new URL(switchForm.action, srv.url), form(switchForm.fields));
    assert.equal(restarted.status, 303);
    const restart = new URL(restarted.headers.get('location')!);
    assert.equal(restart.searchParams.get('prompt'), 'login');
    assert.equal(restart.searchParams.get('state'), 'keep-me');
    assert.equal(restart.searchParams.get('client_id'), first.client.client_id);
    assert.equal(restart.searchParams.get('ui_locales'), 'ja');

    // The old consent can no longer be answered, and the account page sees nobody signed in.
    const stale = await first.jar.fetch(new URL(consentForm.action, srv.url), form(consentForm.fields));
    assert.equal(stale.status, 400);
    await stale.body?.cancel();
    const account = await (await first.jar.fetch(`${srv.url}/account`)).text();
    assert.ok(
      parseForms(account).some((f) => f.action === '/account/login'),
      'signed out',
    );

    const login = await follow(first.jar, restarted);
    const loginHtml = await login.res.text();
    assert.match(loginHtml, /Switcher/);
    assert.match(loginHtml, /<html lang="ja">/, 'ui_locales survived the restart');
    const loginForm = parseForms(loginHtml).find((f) => f.action.endsWith('/login'))!;
    const posted = await first.jar.fetch(
      new URL(loginForm.action, srv.url),
      // (not `admin`: the throttling test above locked that username out on this server)
      form({ ...loginForm.fields, username: 'inspector', password: 'inspector123' }),
    );
    const consent = await follow(first.jar, posted);
    const consentHtml = await consent.res.text();
    assert.match(consentHtml, /MCP Inspector User/);
    assert.ok(!consentHtml.includes('Demo User'));
    const allow = parseForms(consentHtml).find((f) => f.action.endsWith('/consent'))!;
    const done = await follow(
      first.jar,
      await first.jar.fetch(new URL(allow.action, srv.url), form(allow.fields)),
    );
    assert.equal(done.url.searchParams.get('state'), 'keep-me');
    const tokens = await exchangeCode(srv.url, {
      clientId: first.client.client_id,
      code: done.url.searchParams.get('code')!,
      verifier: first.verifier,
      redirectUri: first.redirectUri,
      resource: `${srv.url}/mcp`,
    });
    assert.equal(tokens.status, 200);
    const claims = JSON.parse(Buffer.from(tokens.body.access_token.split('.')[1], 'base64url').toString());
    const second = await srv.sekisho.identity.findByUsername('inspector');
    assert.equal(claims.sub, second!.id, 'the token is the second account’s');
  });
});

describe('consent: the client’s website and logo', () => {
  it('loads a logo from the client’s own https host only, and the CSP allows exactly that origin', async () => {
    const own = await openConsent(demo, {
      client_name: 'Acme Notes',
      client_uri: 'https://notes.acme.example/',
      logo_uri: 'https://notes.acme.example/logo.png',
      redirect_uris: ['https://notes.acme.example/callback'],
    });
    assert.match(
      own.html,
      /<img class="logo" src="https:\/\/notes\.acme\.example\/logo\.png"[^>]*referrerpolicy="no-referrer"/,
    );
    assert.match(own.html, /<code>notes\.acme\.example<\/code>/);
    assert.match(
      own.res.headers.get('content-security-policy') ?? '',
      /img-src 'self' data: https:\/\/notes\.acme\.example;/,
    );

    const pixel = await openConsent(demo, {
      client_name: 'Pixel',
      client_uri: 'https://pixel.example/',
      logo_uri: 'https://tracker.example/p.gif',
    });
    assert.ok(!pixel.html.includes('<img'), 'no third-party image');
    assert.ok(!pixel.html.includes('tracker.example'));
    assert.match(pixel.res.headers.get('content-security-policy') ?? '', /img-src 'self' data:;/);
  });
});
