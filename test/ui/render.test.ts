/**
 * The pages as pure functions: what each one must say and offer, in both languages, without a
 * server — Not-you on consent, error words instead of oidc-provider's, distinguishable account cards
 * with zoned times, the language switch and its precedence, password focus after a failure, the
 * Japanese house style, and which client website/logo may be shown.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCOPES } from '../../src/access/scopes.ts';
import { clientBranding, redirectHosts } from '../../src/oauth/client-branding.ts';
import { restartUrl } from '../../src/oauth/interactions/switch-account.ts';
import { OAUTH_ROUTES } from '../../src/oauth/routes.ts';
import { adminJapaneseStrings } from '../../src/ui/admin-words.ts';
import { EXPLAINED_CODES, errorWords } from '../../src/ui/error-words.ts';
import { fromUiLocales, LANGS, type Lang, MESSAGES, resolveLanguage } from '../../src/ui/i18n.ts';
import { languageHref } from '../../src/ui/layout.ts';
import { type AuthorizedApp, accountPage } from '../../src/ui/pages/account.ts';
import { type ConsentView, consentPage } from '../../src/ui/pages/consent.ts';
import { errorPage, forbiddenPage } from '../../src/ui/pages/error.ts';
import { loginPage } from '../../src/ui/pages/login.ts';

const consentView = (lang: Lang, extra: Partial<ConsentView> = {}): ConsentView => ({
  lang,
  switchHref: `/interaction/abc?lang=${lang === 'en' ? 'ja' : 'en'}`,
  action: '/interaction/abc/consent',
  denyAction: '/interaction/abc/abort',
  switchAccountAction: '/interaction/abc/switch-account',
  csrf: 'CSRF-TOKEN',
  clientName: 'Acme Notes',
  selfAsserted: true,
  redirectHost: '127.0.0.1:53682',
  localhostOnly: true,
  user: { name: 'Demo User', username: 'demo' },
  scopes: ['mcp:tools'],
  withheld: ['mcp:admin'],
  ...extra,
});

/** The text a reader sees, without the parts that are deliberately not prose (code, developer details). */
function prose(document: string): string {
  return document
    .replace(/<head>[\s\S]*?<\/head>/, '')
    .replace(/<details[\s\S]*?<\/details>/g, '')
    .replace(/<code[\s\S]*?<\/code>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/g, ' ');
}

/** Every Japanese string the pages can show, functions called with a sample. */
function japaneseStrings(): string[] {
  const out: string[] = [];
  for (const value of Object.values(MESSAGES.ja)) {
    if (typeof value === 'string') out.push(value);
    else out.push(String((value as (x: never) => unknown)('X' as never)));
  }
  for (const code of [...EXPLAINED_CODES, 'default']) {
    const w = errorWords(code, 'ja');
    out.push(w.title, w.what, w.next);
  }
  for (const scope of Object.values(SCOPES)) out.push(scope.description.ja);
  for (const scope of ['openid', 'profile', 'email', 'offline_access'])
    out.push(MESSAGES.ja.scopeDescription(scope));
  out.push(MESSAGES.ja.roleName('admin'), MESSAGES.ja.roleName('user'));
  out.push(...adminJapaneseStrings());
  return out;
}

describe('consent: Not you?', () => {
  for (const lang of LANGS) {
    it(`offers "use another account" as a CSRF-protected post (${lang})`, () => {
      const page = consentPage(consentView(lang));
      const form =
        /<form method="post" action="\/interaction\/abc\/switch-account"[^>]*>([\s\S]*?)<\/form>/.exec(page);
      assert.ok(form, 'switch-account form');
      assert.match(form[1]!, /name="csrf" value="CSRF-TOKEN"/);
      assert.ok(form[1]!.includes(`<button type="submit" class="link">${MESSAGES[lang].notYou}</button>`));
      assert.match(page, /Demo User/);
    });
  }
});

describe('error page', () => {
  it('explains every known code in plain words, in both languages, with what to do next', () => {
    for (const code of EXPLAINED_CODES) {
      for (const lang of LANGS) {
        const words = errorWords(code, lang);
        assert.notDeepEqual(words, errorWords('default', lang), `${code} has its own words`);
        for (const text of [words.title, words.what, words.next])
          assert.ok(text.length > 5, `${code}/${lang}`);
      }
    }
    assert.deepEqual(errorWords('__proto__', 'en'), errorWords('default', 'en'));
    assert.deepEqual(errorWords('constructor', 'ja'), errorWords('default', 'ja'));
  });

  it('keeps oidc-provider wording out of the prose; the code small, the detail folded away', () => {
    for (const lang of LANGS) {
      const page = errorPage({ lang, switchHref: '/x', code: 'invalid_client', detail: 'client is invalid' });
      assert.ok(!prose(page).includes('client is invalid'), 'raw description not in the prose');
      assert.match(page, /<p class="support">[^<]*<code>invalid_client<\/code><\/p>/);
      assert.match(
        page,
        /<details class="support"><summary>[^<]+<\/summary><p lang="en"><code>client is invalid<\/code>/,
      );
      assert.match(page, new RegExp(errorWords('invalid_client', lang).next));
    }
  });

  it('a Japanese error page is Japanese throughout (outside the code and the developer details)', () => {
    for (const code of [...EXPLAINED_CODES, 'something_new']) {
      const page = errorPage({ lang: 'ja', switchHref: '/x', code, detail: 'redirect_uri did not match' });
      // Latin words left: the product name and the switch to English (which names itself in English).
      const latin = prose(page)
        .replace(/Sekisho|English/g, '')
        .match(/[A-Za-z]{2,}/g);
      assert.equal(latin, null, `${code}: ${latin?.join(' ')}`);
    }
    const forbidden = forbiddenPage('ja', '/account?lang=en');
    assert.match(forbidden, /フォームの有効期限が切れました/);
  });
});

describe('account page', () => {
  const base = Date.UTC(2026, 11, 2, 5, 9, 0);
  const inspector = (id: string, host: string, at: number): AuthorizedApp => ({
    clientId: id,
    clientName: 'MCP Inspector',
    redirectHosts: [host],
    scopes: ['mcp:tools', 'mcp:data'],
    authorizedAt: at,
    lastUsedAt: at + 60_000,
  });
  const apps = [
    inspector('Yc2X7rP0kq3nD9uVbLwTz4eF', 'localhost:6274', base),
    inspector('mQ8sJ1hA6vGpR5tN2yKcE0xW', 'localhost:6275', base + 86_400_000),
  ];

  for (const lang of LANGS) {
    it(`tells two registrations of the same app apart, times in UTC with <time datetime> (${lang})`, () => {
      const page = accountPage({
        lang,
        switchHref: '/account?lang=en',
        csrf: 'c',
        user: { name: 'Demo User', username: 'demo' },
        apps,
        revokeAction: '/account/revoke',
        signOutAction: '/account/logout',
      });
      const cards = page.split('<div class="app-head">').slice(1);
      assert.equal(cards.length, 2);
      assert.match(cards[0]!, /<code title="Yc2X7rP0kq3nD9uVbLwTz4eF">…bLwTz4eF<\/code>/);
      assert.match(cards[1]!, /<code title="mQ8sJ1hA6vGpR5tN2yKcE0xW">…2yKcE0xW<\/code>/);
      assert.match(cards[0]!, /localhost:6274/);
      assert.match(cards[1]!, /localhost:6275/);
      assert.match(cards[0]!, /<time datetime="2026-12-02T05:09:00Z">[^<]*UTC[^<]*<\/time>/);
      assert.match(cards[0]!, /<time datetime="2026-12-02T05:10:00Z">/);
      assert.match(cards[1]!, /<time datetime="2026-12-03T05:09:00Z">/);
      assert.match(page, new RegExp(MESSAGES[lang].timeZoneNote.replace(/[()（）]/g, '.')));
    });
  }
  it('formats the Japanese date the Japanese way', () => {
    const page = accountPage({
      lang: 'ja',
      switchHref: '/account?lang=en',
      csrf: 'c',
      user: { name: 'Demo User', username: 'demo' },
      apps: apps.slice(0, 1),
      revokeAction: '/r',
      signOutAction: '/o',
    });
    assert.match(page, />2026年12月2日 5:09（UTC）</);
  });
});

describe('language', () => {
  it('the user choice beats ui_locales, which beats Accept-Language, which beats English', () => {
    assert.equal(resolveLanguage({ chosen: 'en', uiLocales: 'ja', acceptLanguage: 'ja' }), 'en');
    assert.equal(resolveLanguage({ chosen: 'fr', uiLocales: 'ja', acceptLanguage: 'en' }), 'ja');
    assert.equal(resolveLanguage({ uiLocales: 'fr-CA ja-JP en', acceptLanguage: 'en' }), 'ja');
    assert.equal(resolveLanguage({ uiLocales: 'fr de', acceptLanguage: 'ja;q=0.5, fr' }), 'ja');
    assert.equal(resolveLanguage({}), 'en');
    assert.equal(fromUiLocales(['ja']), undefined);
  });

  it('every page has a switch to the other language, named in that language', () => {
    const pages: [Lang, string][] = [
      ['en', loginPage({ lang: 'en', switchHref: '/a?lang=ja', action: '/l', csrf: 'c', clientName: 'X' })],
      ['ja', consentPage(consentView('ja', { switchHref: '/a?lang=en' }))],
      ['en', errorPage({ lang: 'en', switchHref: '/a?lang=ja', code: 'invalid_client' })],
      ['ja', forbiddenPage('ja', '/a?lang=en')],
    ];
    for (const [lang, page] of pages) {
      const other = lang === 'en' ? 'ja' : 'en';
      const name = other === 'ja' ? '日本語' : 'English';
      assert.match(
        page,
        new RegExp(
          `<nav class="lang-switch"[^>]*><a href="/a\\?lang=${other}" hreflang="${other}" lang="${other}">${name}</a></nav>`,
        ),
      );
      assert.match(page, new RegExp(`<html lang="${lang}">`));
    }
  });

  it('the switch link never leaves the site, whatever the request line held', () => {
    assert.equal(languageHref('/interaction/abc', 'ja'), '/interaction/abc?lang=ja');
    assert.equal(languageHref('/account?revoked=x&lang=en', 'ja'), '/account?revoked=x&lang=ja');
    for (const evil of [
      '//evil.example/x',
      '/\\evil.example/x',
      'https://evil.example/x',
      '///evil.example',
      '///',
      '/\\\\',
    ]) {
      const href = languageHref(evil, 'en');
      assert.match(href, /^\/(?!\/)/, `${evil} → ${href}`);
      assert.ok(!href.includes('evil.example'), href);
    }
  });
});

describe('sign-in page', () => {
  const view = { lang: 'en' as const, switchHref: '/x', action: '/l', csrf: 'c', clientName: 'Acme' };
  it('focuses the username first, the password after a wrong password (username kept)', () => {
    const fresh = loginPage(view);
    assert.match(fresh, /id="username"[^>]* autofocus>/);
    assert.doesNotMatch(fresh, /id="password"[^>]* autofocus/);
    const failed = loginPage({ ...view, problem: { kind: 'invalid' }, username: 'demo' });
    assert.match(failed, /id="username" name="username" value="demo"/);
    assert.match(failed, /id="password"[^>]* autofocus>/);
    assert.doesNotMatch(failed, /id="username"[^>]* autofocus/);
  });

  it('names the app inside a natural sentence and translates roles', () => {
    const ja = loginPage({
      ...view,
      lang: 'ja',
      clientName: 'Acme Notes',
      demoAccounts: [
        { username: 'admin', password: 'a', role: 'admin' },
        { username: 'demo', password: 'd', role: 'user' },
      ],
    });
    assert.match(ja, /<span class="client">Acme Notes<\/span> を利用するには、サインインしてください。/);
    assert.match(ja, /<td>管理者<\/td>/);
    assert.match(ja, /<td>ユーザー<\/td>/);
    assert.match(loginPage(view), /Sign in to continue to <span class="client">Acme<\/span>\./);
  });
});

describe('Japanese house style', () => {
  it('one word for signing in, full-width punctuation, no colon-joined fragments', () => {
    for (const text of japaneseStrings()) {
      assert.ok(!text.includes('ログイン'), `ログイン in ${text}`);
      assert.doesNotMatch(text, /[?!():]/, `half-width punctuation in ${text}`);
    }
  });
});

describe('client website and logo', () => {
  const redirect = ['https://notes.acme.example/callback'];
  it('shows a website host for https or loopback http only', () => {
    const host = (clientUri: unknown) => clientBranding({ clientId: 'x', clientUri }).websiteHost;
    assert.equal(host('https://notes.acme.example/about'), 'notes.acme.example');
    assert.equal(host('http://localhost:3000/'), 'localhost:3000');
    for (const bad of [
      'http://notes.acme.example/',
      'javascript:alert(1)',
      'data:text/html,x',
      'https://bank.example@evil.example/',
      `https://a.example/${'x'.repeat(3000)}`,
      42,
      undefined,
    ]) {
      assert.equal(host(bad), undefined, String(bad).slice(0, 60));
    }
  });

  it('loads a logo only over https from a host the client already named for itself', () => {
    const same = clientBranding({
      clientId: 'x',
      logoUri: 'https://notes.acme.example/logo.png',
      redirectUris: redirect,
    });
    assert.equal(same.logoUrl, 'https://notes.acme.example/logo.png');
    assert.equal(same.logoOrigin, 'https://notes.acme.example');
    const cimd = clientBranding({
      clientId: 'https://app.example/client.json',
      logoUri: 'https://app.example/l.svg',
    });
    assert.equal(cimd.logoOrigin, 'https://app.example');
    for (const logoUri of [
      'https://tracker.example/pixel.gif',
      'http://notes.acme.example/logo.png',
      'data:image/svg+xml,<svg/>',
      'https://u:p@notes.acme.example/logo.png',
    ]) {
      const b = clientBranding({ clientId: 'x', logoUri, redirectUris: redirect });
      assert.equal(b.logoUrl, undefined, logoUri);
      assert.equal(b.logoOrigin, undefined, logoUri);
    }
    // A loopback-only app (the usual MCP client) names no web host: no image at all.
    const loopback = clientBranding({
      clientId: 'x',
      logoUri: 'https://127.0.0.1/logo.png',
      redirectUris: ['http://127.0.0.1:6274/callback'],
    });
    assert.equal(loopback.logoUrl, undefined);
  });

  it('the consent page shows them with the unverified note and no link', () => {
    const page = consentPage(
      consentView('en', {
        websiteHost: 'notes.acme.example',
        logoUrl: 'https://notes.acme.example/logo.png',
      }),
    );
    assert.match(
      page,
      /<img class="logo" src="https:\/\/notes\.acme\.example\/logo\.png" alt="" width="56" height="56" referrerpolicy="no-referrer"/,
    );
    assert.match(page, /<code>notes\.acme\.example<\/code>/);
    assert.doesNotMatch(page, /<a href="https:\/\/notes/);
    assert.match(page, new RegExp(MESSAGES.en.unverifiedDetails));
  });

  it('redirect hosts for the account cards', () => {
    assert.deepEqual(
      redirectHosts(['http://localhost:6274/a', 'http://localhost:6274/b', 'com.example.app:/cb']),
      ['localhost:6274', 'com.example.app:'],
    );
  });
});

describe('restarting the authorization request for another account', () => {
  it('keeps every parameter, asks for the sign-in page, never prompt=none', () => {
    const url = new URL(
      restartUrl('https://as.example', {
        client_id: 'c1',
        response_type: 'code',
        redirect_uri: 'http://127.0.0.1:1/cb',
        code_challenge: 'ch',
        code_challenge_method: 'S256',
        state: 's & t',
        resource: ['https://as.example/mcp'],
        ui_locales: 'ja',
        prompt: 'consent none',
        nonce: undefined,
      }),
    );
    assert.equal(url.origin, 'https://as.example');
    assert.equal(url.pathname, OAUTH_ROUTES.authorization);
    assert.equal(url.searchParams.get('state'), 's & t');
    assert.equal(url.searchParams.get('ui_locales'), 'ja');
    assert.equal(url.searchParams.get('code_challenge'), 'ch');
    assert.deepEqual(url.searchParams.getAll('resource'), ['https://as.example/mcp']);
    assert.equal(url.searchParams.get('prompt'), 'consent login');
    assert.equal(url.searchParams.has('nonce'), false);
  });
});
