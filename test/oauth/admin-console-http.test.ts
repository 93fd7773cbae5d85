/**
 * The admin console's bad inputs and answers over plain HTTP (the list in docs/security.md): who may
 * reach it, CSRF, hostile form values and filters — never a 500, never a change on a refusal, never
 * a reflected value outside escaping, and every refused action audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CookieJar, parseForms } from '../helpers/browserless-login.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv?.close());

async function signedInJar(username: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const page = await jar.fetch(`${srv.url}/account`);
  const form = parseForms(await page.text()).find((f) => f.action.includes('/account/login'))!;
  const res = await jar.fetch(new URL(form.action, srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, username, password }),
  });
  assert.equal(res.status, 303);
  return jar;
}

/** The CSRF token of the console's forms for this sign-in. */
async function consoleCsrf(jar: CookieJar): Promise<string> {
  const page = await jar.fetch(`${srv.url}/admin/users`);
  assert.equal(page.status, 200);
  const csrf = parseForms(await page.text()).find((f) => f.fields.csrf)?.fields.csrf;
  assert.ok(csrf);
  return csrf;
}

function post(jar: CookieJar, path: string, fields: Record<string, string> | string) {
  return jar.fetch(`${srv.url}/admin/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: typeof fields === 'string' ? fields : new URLSearchParams(fields),
  });
}

describe('admin console: bad inputs and answers', () => {
  let admin: CookieJar;
  let csrf: string;
  before(async () => {
    admin = await signedInJar('admin', 'admin123');
    csrf = await consoleCsrf(admin);
  });

  it('not signed in: 303 to the account sign-in for pages and actions, nothing changes', async () => {
    const stranger = new CookieJar();
    for (const path of ['', '/users', '/audit?type=signin']) {
      const res = await stranger.fetch(`${srv.url}/admin${path}`);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/account?next=admin');
    }
    const keys = await srv.sekisho.storage.listKeys();
    const res = await post(stranger, 'keys/rotate', { csrf });
    assert.equal(res.status, 303);
    assert.deepEqual(await srv.sekisho.storage.listKeys(), keys);
  });

  it('a signed-in user without the admin role: 403 on every page and action', async () => {
    const demo = await signedInJar('demo', 'demo123');
    for (const path of ['', '/users', '/clients', '/grants', '/keys', '/audit']) {
      const res = await demo.fetch(`${srv.url}/admin${path}`);
      assert.equal(res.status, 403, path);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    }
    const keys = await srv.sekisho.storage.listKeys();
    assert.equal((await post(demo, 'keys/rotate', { csrf })).status, 403);
    assert.equal((await post(demo, 'users/role', { csrf, username: 'demo', role: 'admin' })).status, 403);
    assert.equal((await srv.sekisho.identity.findByUsername('demo'))?.role, 'user');
    assert.deepEqual(await srv.sekisho.storage.listKeys(), keys);
  });

  it('CSRF: missing, forged or another sign-in’s token → 403, nothing changes, the refusal is audited', async () => {
    const other = await consoleCsrf(await signedInJar('inspector', 'inspector123'));
    for (const token of [undefined, '', 'forged', other, `${csrf}x`]) {
      const fields: Record<string, string> = {
        username: 'zed',
        password: 'zed-correct-horse-1',
        role: 'user',
      };
      if (token !== undefined) fields.csrf = token;
      assert.equal((await post(admin, 'users/add', fields)).status, 403, String(token));
    }
    assert.equal(await srv.sekisho.identity.findByUsername('zed'), undefined);
    const refused = await srv.sekisho.storage.listAudit({ types: ['admin.action'] });
    assert.ok(refused.filter((r) => r.details.reason === 'csrf').length >= 5);
  });

  it('hostile form values: 400/404 with a plain-words problem, never a 500, nothing reflected raw', async () => {
    const cases: [string, Record<string, string> | string, number, RegExp][] = [
      [
        'users/add',
        { csrf, username: '<script>x</script>', password: 'long-enough-pw-1' },
        400,
        /not allowed/,
      ],
      ['users/add', { csrf, username: 'ok-name', password: 'short' }, 400, /too short/],
      [
        'users/add',
        { csrf, username: 'ok-name', password: 'long-enough-pw-1', role: 'superuser' },
        400,
        /Choose a role/,
      ],
      [
        'users/add',
        { csrf, username: 'ok-name', password: 'long-enough-pw-1', email: 'not an email' },
        400,
        /email/,
      ],
      ['users/add', { csrf, username: 'demo', password: 'long-enough-pw-1' }, 400, /already exists/],
      [
        'users/add',
        `csrf=${encodeURIComponent(csrf)}&username=a&username=b&password=long-enough-pw-1`,
        400,
        /not allowed/,
      ],
      ['users/role', { csrf, username: 'nobody-here', role: 'admin' }, 404, /no such user/],
      ['users/role', { csrf, username: 'admin', role: 'user' }, 400, /your own role/],
      ['users/disable', { csrf, username: 'admin', disabled: '1' }, 400, /your own role/],
      ['users/password', { csrf, username: 'demo', password: 'x' }, 400, /too short/],
      ['grants/revoke', { csrf, grant_id: 'no-such-grant' }, 404, /no such grant/],
      ['grants/revoke', { csrf }, 404, /no such grant/],
      ['clients/remove', { csrf, client_id: "x' OR 1=1 --" }, 404, /no such app/],
    ];
    for (const [path, fields, status, words] of cases) {
      const res = await post(admin, path, fields);
      const text = await res.text();
      assert.equal(res.status, status, `${path} ${JSON.stringify(fields)}`);
      assert.match(text, words, path);
      assert.doesNotMatch(text, /<script>x/, 'never reflected raw');
    }
    assert.equal((await srv.sekisho.identity.findByUsername('admin'))?.role, 'admin');
    assert.equal(await srv.sekisho.identity.findByUsername('ok-name'), undefined);
  });

  it('oversized and overfull forms are refused before any action (413)', async () => {
    const big = await post(admin, 'users/add', { csrf, username: 'big', password: 'x'.repeat(20_000) });
    assert.equal(big.status, 413);
    const many = Array.from({ length: 50 }, (_, i) => `f${i}=1`).join('&');
    assert.equal((await post(admin, 'users/add', `csrf=${encodeURIComponent(csrf)}&${many}`)).status, 413);
    assert.equal(await srv.sekisho.identity.findByUsername('big'), undefined);
  });

  it('audit filters: an unknown type or time is a 400 with the page; notice words are fixed', async () => {
    for (const query of [
      'type=%3Cscript%3Ex',
      'since=yesterday',
      `since=${'9'.repeat(30)}d`,
      `user=${'u'.repeat(300)}`,
    ]) {
      const res = await admin.fetch(`${srv.url}/admin/audit?${query}`);
      const text = await res.text();
      assert.equal(res.status, 400, query);
      assert.match(text, /not understood/);
      assert.doesNotMatch(text, /<script>x/);
    }
    const ok = await admin.fetch(`${srv.url}/admin/audit?type=signin&since=2026-01-01&user=admin`);
    assert.equal(ok.status, 200);
    const done = await admin.fetch(`${srv.url}/admin/users?done=%3Cscript%3Ealert(1)%3C/script%3E`);
    const page = await done.text();
    assert.equal(done.status, 200);
    assert.doesNotMatch(page, /<script>alert|class="notice ok"/);
    assert.equal((await admin.fetch(`${srv.url}/admin/nope`)).status, 404);
  });

  it('pages carry the page security headers', async () => {
    const res = await admin.fetch(`${srv.url}/admin/keys`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /form-action 'self'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
  });
});
