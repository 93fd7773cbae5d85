/**
 * Issue 8, display: the account page's "revoked" notice appears only right after a revocation the
 * signed-in user made (never for a crafted `?revoked=` link), and client-chosen names are shown
 * without bidi overrides or invisible characters, capped, and refused at registration when too long.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { displayText } from '../../src/ui/display-text.ts';
import { CookieJar, parseForms } from '../helpers/browserless-login.ts';
import { registerClient, signIn } from '../helpers/oauth.ts';
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

async function accountSession(user = demo): Promise<CookieJar> {
  const jar = new CookieJar();
  const html = await (await jar.fetch(`${srv.url}/account`)).text();
  const login = parseForms(html).find((f) => f.action === '/account/login')!;
  const res = await jar.fetch(`${srv.url}/account/login`, form({ ...login.fields, ...user }));
  assert.equal(res.status, 303);
  return jar;
}

describe('the revoked notice is a flash, not an echo', () => {
  it('shows nothing for ?revoked=<anything>, the notice right after a real revocation, and only to that session', async () => {
    const { client } = await signIn(srv.url, demo, {
      client: await registerClient(srv.url, { client_name: 'Flash Agent' }),
    });
    const jar = await accountSession();
    for (const crafted of ['Your account is compromised, call +1-555', client.client_id, 'x.y', '']) {
      const html = await (
        await jar.fetch(`${srv.url}/account?revoked=${encodeURIComponent(crafted)}`)
      ).text();
      assert.doesNotMatch(html, /was revoked|notice ok/, crafted);
    }
    const page = await (await jar.fetch(`${srv.url}/account`)).text();
    const revoke = parseForms(page).find(
      (f) => f.action === '/account/revoke' && f.fields.client_id === client.client_id,
    )!;
    const done = await jar.fetch(`${srv.url}/account/revoke`, form(revoke.fields));
    assert.equal(done.status, 303);
    const location = new URL(done.headers.get('location')!, srv.url);
    assert.match(await (await jar.fetch(location)).text(), /Access for Flash Agent was revoked\./);
    // The same link in another user's signed-in browser shows nothing. (Known gap, tracked in the
    // closing note: a second browser signed in as the SAME user still sees it — the account
    // cookie does not yet carry a per-sign-in nonce for the marker to bind to.)
    const other = await accountSession({ username: 'inspector', password: 'inspector123' });
    assert.doesNotMatch(await (await other.fetch(location)).text(), /was revoked/);
  });
});

describe('client-chosen names', () => {
  it('cleans bidi overrides and invisible characters, caps length (unit)', () => {
    assert.equal(displayText('Acme \u202Eelgoog'), 'Acme elgoog');
    assert.equal(displayText('Ac\u200Bme\u2066 Bot\u2069\uFEFF'), 'Acme Bot');
    assert.equal(displayText('a\n\tb'), 'a b');
    const long = displayText('x'.repeat(15_000));
    assert.equal(Array.from(long).length, 100);
    assert.ok(long.endsWith('…'));
    assert.equal(Array.from(displayText('😀'.repeat(150))).length, 100, 'never splits a surrogate pair');
  });

  it('registration refuses a client_name over 100 characters; the consent page shows a cleaned name', async () => {
    const res = await fetch(`${srv.url}/oauth/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'n'.repeat(101),
        redirect_uris: ['http://127.0.0.1:53682/callback'],
        token_endpoint_auth_method: 'none',
      }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description, /client_name must not exceed 100 characters/);

    const spoof = await registerClient(srv.url, { client_name: 'Acme \u202Eelgoog\u200B' });
    const { flow } = await signIn(srv.url, demo, { client: spoof });
    const consent = flow.pages.find((p) => p.html.includes('/consent"'))!.html;
    assert.match(consent, /Acme elgoog/);
    assert.ok(!consent.includes('\u202E') && !consent.includes('\u200B'));
  });
});
