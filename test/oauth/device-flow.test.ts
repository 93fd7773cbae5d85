/**
 * The device authorization grant (RFC 8628) end to end over real HTTP: a scripted device starts the
 * flow and polls; a person types the code on /device, checks the request, signs in and consents,
 * through Sekisho's real pages. Then the token works on /mcp like a code-flow token (audience /mcp,
 * grant id, role-downscoped scopes, refresh). And the abuse cases: polling too fast, a reused device
 * code or user code, a denied request (on either page), an expired code, wrong codes until throttled,
 * a form without its CSRF value.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { hashTokenId } from '../../src/storage/sidecar.ts';
import { CookieJar } from '../helpers/browserless-login.ts';
import {
  approveDevice,
  DEVICE_GRANT,
  pollDeviceToken,
  registerDeviceClient,
  startDeviceAuthorization,
} from '../helpers/device.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { refresh } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_DEVICE_POLL_INTERVAL_SECONDS: '1' });
});
after(() => srv?.close());

const demo = { username: 'demo', password: 'demo123' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** One poll interval (1 s in these tests) and a margin for a loaded machine. */
const waitInterval = () => sleep(1_200);

async function start(clientId: string, scope = 'mcp:tools') {
  const started = await startDeviceAuthorization(srv.url, {
    client_id: clientId,
    scope,
    resource: srv.mcpUrl,
  });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  return started.body;
}

describe('device flow: metadata and the device authorization response', () => {
  it('advertises the device authorization endpoint and grant', async () => {
    const meta = await (await fetch(`${srv.url}/.well-known/oauth-authorization-server`)).json();
    assert.equal(meta.device_authorization_endpoint, `${srv.url}/oauth/device/auth`);
    assert.ok(meta.grant_types_supported.includes(DEVICE_GRANT));
  });

  it('answers with an easy-to-type user code, the /device page, expiry and the polling interval', async () => {
    const clientId = await registerDeviceClient(srv.url);
    const body = await start(clientId);
    assert.match(body.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(body.verification_uri, `${srv.url}/device`);
    assert.equal(body.verification_uri_complete, `${srv.url}/device?user_code=${body.user_code}`);
    assert.equal(body.expires_in, 600);
    assert.equal(body.interval, 1);
    assert.ok(body.device_code.length >= 40);
  });
});

describe('device flow: a user approves, the device gets an audience-bound token', () => {
  it('pending → approve through the pages → token for /mcp with the grant; code reuse is refused', async () => {
    const clientId = await registerDeviceClient(srv.url, 'Terminal agent');
    const d = await start(clientId, 'mcp:tools mcp:data mcp:admin');

    const pending = await pollDeviceToken(srv.url, clientId, d.device_code);
    assert.equal(pending.status, 400);
    assert.equal(pending.body.error, 'authorization_pending');

    const { pages, last } = await approveDevice(srv.url, d.user_code.toLowerCase().replace('-', ' '), demo);
    const confirm = pages.find((p) => p.html.includes('name="confirm"'));
    assert.ok(confirm, 'a confirmation page');
    assert.match(confirm.html, /Terminal agent/);
    assert.match(confirm.html, new RegExp(d.user_code));
    assert.match(confirm.html, /mcp:tools/);
    assert.match(confirm.html, /Requested from/);
    const consent = pages.find((p) => p.html.includes('/consent"'));
    assert.ok(consent, 'a consent page');
    assert.match(consent.html, /the device that showed you the code/);
    assert.match(consent.html, /Demo User|demo/);
    // The demo user's role may not hold mcp:admin: it is shown as withheld, not granted.
    assert.match(consent.html, /your account does not allow these/);
    assert.equal(last.status, 200);
    assert.match(last.html, /Device connected/);

    await waitInterval();
    const token = await pollDeviceToken(srv.url, clientId, d.device_code);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(token.body.token_type, 'Bearer');
    assert.equal(token.body.scope, 'mcp:tools mcp:data');
    assert.equal(typeof token.body.refresh_token, 'string');
    const claims = decodeJwt(String(token.body.access_token));
    assert.equal(claims.aud, srv.mcpUrl);
    assert.equal(claims.client_id, clientId);
    assert.equal(typeof claims.gid, 'string');

    const status = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'auth_status', arguments: {} },
      { headers: { authorization: `Bearer ${token.body.access_token}` } },
    );
    assert.equal(status.status, 200);
    assert.match(JSON.stringify(status.body?.result), /Current User: Demo User \(demo\)/);

    // The same refresh rules as the code flow: rotation, audience kept.
    const refreshed = await refresh(srv.url, { clientId, refreshToken: String(token.body.refresh_token) });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(decodeJwt(refreshed.body.access_token).aud, srv.mcpUrl);
    assert.notEqual(refreshed.body.refresh_token, token.body.refresh_token);

    // The device code is single-use: presenting it again is treated as theft (like a reused
    // authorization code) and revokes what it produced; the user code is gone with it.
    await waitInterval();
    const again = await pollDeviceToken(srv.url, clientId, d.device_code);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    const revoked = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'auth_status', arguments: {} },
      { headers: { authorization: `Bearer ${refreshed.body.access_token}` } },
    );
    assert.equal(revoked.status, 401);
    const retyped = await approveDevice(srv.url, d.user_code, demo);
    assert.equal(retyped.last.status, 400);
    assert.match(retyped.last.html, /That code is not valid/);
  });

  it('shows the pages in Japanese when the browser asks for it', async () => {
    const clientId = await registerDeviceClient(srv.url);
    const d = await start(clientId);
    const { pages } = await approveDevice(srv.url, d.user_code, { ...demo, acceptLanguage: 'ja' });
    assert.match(pages[0]!.html, /デバイスを接続/);
    assert.ok(pages.some((p) => p.html.includes('あなたのデバイスですか')));
    assert.match(pages.at(-1)!.html, /デバイスを接続しました/);
  });
});

describe('device flow: refusals', () => {
  it('polling faster than the interval gets slow_down, then pending again after waiting', async () => {
    const clientId = await registerDeviceClient(srv.url);
    const d = await start(clientId);
    assert.equal(
      (await pollDeviceToken(srv.url, clientId, d.device_code)).body.error,
      'authorization_pending',
    );
    const fast = await pollDeviceToken(srv.url, clientId, d.device_code);
    assert.equal(fast.status, 400);
    assert.equal(fast.body.error, 'slow_down');
    await waitInterval();
    assert.equal(
      (await pollDeviceToken(srv.url, clientId, d.device_code)).body.error,
      'authorization_pending',
    );
  });

  it('"No" on the confirmation page: the denied page, and access_denied for the device', async () => {
    const clientId = await registerDeviceClient(srv.url);
    const d = await start(clientId);
    const { last } = await approveDevice(srv.url, d.user_code, { ...demo, confirm: 'deny' });
    assert.match(last.html, /You denied the request/);
    const polled = await pollDeviceToken(srv.url, clientId, d.device_code);
    assert.equal(polled.status, 400);
    assert.equal(polled.body.error, 'access_denied');
  });

  it('Deny on the consent page: access_denied for the device', async () => {
    const clientId = await registerDeviceClient(srv.url);
    const d = await start(clientId);
    const { last } = await approveDevice(srv.url, d.user_code, { ...demo, consent: 'deny' });
    assert.match(last.html, /You denied the request/);
    const polled = await pollDeviceToken(srv.url, clientId, d.device_code);
    assert.equal(polled.body.error, 'access_denied');
  });

  it('an expired device code gets expired_token', async () => {
    const clientId = await registerDeviceClient(srv.url);
    const d = await start(clientId);
    const id = hashTokenId(d.device_code);
    const row = await srv.sekisho.storage.find('DeviceCode', id);
    assert.ok(row);
    await srv.sekisho.storage.upsert(
      'DeviceCode',
      id,
      { ...row, exp: Math.floor(Date.now() / 1000) - 1 },
      60,
    );
    const polled = await pollDeviceToken(srv.url, clientId, d.device_code);
    assert.equal(polled.status, 400);
    assert.equal(polled.body.error, 'expired_token');
  });

  it('another client cannot redeem the device code', async () => {
    const owner = await registerDeviceClient(srv.url);
    const thief = await registerDeviceClient(srv.url);
    const d = await start(owner);
    const polled = await pollDeviceToken(srv.url, thief, d.device_code);
    assert.equal(polled.status, 400);
    assert.equal(polled.body.error, 'invalid_grant');
  });

  it('a code-entry form without its CSRF value is refused', async () => {
    const res = await fetch(`${srv.url}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user_code=BCDF-GHJK',
    });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /This form has expired/);
    // With a session but a wrong CSRF value: the entry page again, saying so.
    const jar = new CookieJar();
    await (await jar.fetch(`${srv.url}/device`)).text();
    const forged = await jar.fetch(`${srv.url}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'xsrf=forged&user_code=BCDF-GHJK',
    });
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /could not be processed/);
  });

  it('a client registered without the device grant cannot start the flow', async () => {
    const res = await fetch(`${srv.url}/oauth/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    const { client_id } = (await res.json()) as { client_id: string };
    const started = await startDeviceAuthorization(srv.url, { client_id, resource: srv.mcpUrl });
    assert.equal(started.status, 400);
    assert.equal(started.body.error, 'invalid_request');
    assert.match(
      String((started.body as { error_description?: string }).error_description),
      /not allowed for this client/,
    );
  });

  it('wrong codes: a clear message each time, then 429 for the address', async () => {
    // A separate server, so the per-address budget of the other tests stays untouched.
    const own = await startTestServer({ SEKISHO_DEMO: '1' });
    try {
      const first = await approveDevice(own.url, 'BBBB-BBBB', demo);
      assert.equal(first.last.status, 400);
      assert.match(first.last.html, /That code is not valid/);
      for (let i = 1; i < 10; i++) await approveDevice(own.url, 'BBBB-BBBB', demo);
      const blocked = await approveDevice(own.url, 'BBBB-BBBB', demo);
      assert.equal(blocked.last.status, 429);
      assert.match(blocked.last.html, /Too many wrong codes/);
    } finally {
      await own.close();
    }
  });
});
