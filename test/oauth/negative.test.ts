/**
 * What must fail, and exactly how (the OAuth error code on the wire): PKCE violations, code reuse,
 * redirect URI tricks, unknown resources and clients, refresh-token replay and races.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import {
  authorizeUrl,
  DEFAULT_REDIRECT,
  exchangeCode,
  pkce,
  refresh,
  registerClient,
  signIn,
  tokenRequest,
} from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_REFRESH_REUSE_GRACE_SECONDS: '1' });
});
after(() => srv?.close());

const demo = { username: 'demo', password: 'demo123' };

/** GET without following redirects; the error redirect's query, or the page. */
async function authorize(url: URL) {
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  const body = await res.text();
  return { status: res.status, location: location ? new URL(location, url) : undefined, body };
}

async function codeFor(clientId: string, challenge: string, redirectUri = DEFAULT_REDIRECT) {
  const flow = await browserlessLogin(authorizeUrl(srv.url, { clientId, challenge, redirectUri }), demo);
  const code = flow.callback.searchParams.get('code');
  assert.ok(code, flow.callback.href);
  return code;
}

describe('PKCE', () => {
  it('rejects an authorization request without PKCE: invalid_request back to the client', async () => {
    const client = await registerClient(srv.url);
    const r = await authorize(authorizeUrl(srv.url, { clientId: client.client_id, state: 'a' }));
    assert.equal(r.status, 303);
    assert.equal(r.location?.origin, 'http://127.0.0.1:53682');
    assert.equal(r.location?.searchParams.get('error'), 'invalid_request');
    assert.match(r.location?.searchParams.get('error_description') ?? '', /PKCE/);
    assert.equal(r.location?.searchParams.get('state'), 'a');
  });

  it('rejects plain PKCE: invalid_request', async () => {
    const client = await registerClient(srv.url);
    const r = await authorize(
      authorizeUrl(srv.url, { clientId: client.client_id, challenge: 'a'.repeat(43), method: 'plain' }),
    );
    assert.equal(r.location?.searchParams.get('error'), 'invalid_request');
    assert.match(r.location?.searchParams.get('error_description') ?? '', /code_challenge_method/);
  });

  it('rejects a wrong code_verifier, and a missing one: invalid_grant', async () => {
    const client = await registerClient(srv.url);
    const { challenge } = pkce();
    const code = await codeFor(client.client_id, challenge);
    const wrong = await exchangeCode(srv.url, {
      clientId: client.client_id,
      code,
      verifier: pkce().verifier,
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    const code2 = await codeFor(client.client_id, challenge);
    const missing = await exchangeCode(srv.url, { clientId: client.client_id, code: code2 });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_grant');
  });
});

describe('authorization codes', () => {
  it('refuses a reused code and revokes what its first use produced', async () => {
    const { client, tokens, code, verifier } = await signIn(srv.url, demo);
    assert.equal(tokens.status, 200);
    const reuse = await exchangeCode(srv.url, { clientId: client.client_id, code, verifier });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    const after = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(after.status, 400);
    assert.equal(after.body.error, 'invalid_grant');
    const user = await srv.sekisho.identity.findByUsername('demo');
    const grants = await srv.sekisho.authorizationServer!.listGrants({
      accountId: user!.id,
      clientId: client.client_id,
    });
    assert.equal(grants.length, 0);
  });

  it('lets only one of two concurrent redemptions of a code through', async () => {
    const client = await registerClient(srv.url);
    const { verifier, challenge } = pkce();
    const code = await codeFor(client.client_id, challenge);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => exchangeCode(srv.url, { clientId: client.client_id, code, verifier })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.body.error, 'invalid_grant');
  });

  it('refuses a redirect_uri at the token endpoint that differs from the authorization request', async () => {
    const client = await registerClient(srv.url, {
      redirect_uris: [DEFAULT_REDIRECT, 'http://127.0.0.1:53682/other'],
    });
    const { verifier, challenge } = pkce();
    const code = await codeFor(client.client_id, challenge);
    const r = await exchangeCode(srv.url, {
      clientId: client.client_id,
      code,
      verifier,
      redirectUri: 'http://127.0.0.1:53682/other',
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });

  it('refuses a code presented by another client', async () => {
    const a = await registerClient(srv.url);
    const b = await registerClient(srv.url);
    const { verifier, challenge } = pkce();
    const code = await codeFor(a.client_id, challenge);
    const r = await exchangeCode(srv.url, { clientId: b.client_id, code, verifier });
    assert.equal(r.body.error, 'invalid_grant');
  });
});

describe('redirect URIs, resources and clients', () => {
  it('shows an error page, and never redirects, for an unregistered redirect_uri', async () => {
    const client = await registerClient(srv.url);
    const { challenge } = pkce();
    for (const redirectUri of [
      'https://attacker.example/cb',
      'http://127.0.0.1:53682/evil', // loopback, other path: still exact except for the port
      'http://localhost:53682/callback', // other loopback host
    ]) {
      const r = await authorize(
        authorizeUrl(srv.url, { clientId: client.client_id, challenge, redirectUri }),
      );
      assert.equal(r.status, 400, redirectUri);
      assert.equal(r.location, undefined, redirectUri);
      assert.match(r.body, /invalid_redirect_uri/);
    }
  });

  it('rejects an unknown resource with invalid_target (authorize and token)', async () => {
    const client = await registerClient(srv.url);
    const { verifier, challenge } = pkce();
    const r = await authorize(
      authorizeUrl(srv.url, { clientId: client.client_id, challenge, resource: 'https://other.example/mcp' }),
    );
    assert.equal(r.location?.searchParams.get('error'), 'invalid_target');
    const code = await codeFor(client.client_id, challenge);
    const t = await exchangeCode(srv.url, {
      clientId: client.client_id,
      code,
      verifier,
      resource: `${srv.url}/not-mcp`,
    });
    assert.equal(t.status, 400);
    assert.equal(t.body.error, 'invalid_target');
  });

  it('answers invalid_client for an unknown client_id (so MCP clients re-register)', async () => {
    const t = await tokenRequest(srv.url, {
      grant_type: 'refresh_token',
      client_id: 'no-such-client',
      refresh_token: 'x',
    });
    assert.equal(t.status, 401);
    assert.equal(t.body.error, 'invalid_client');
    const r = await authorize(
      authorizeUrl(srv.url, { clientId: 'no-such-client', challenge: pkce().challenge }),
    );
    assert.equal(r.status, 400);
    assert.equal(r.location, undefined);
    assert.match(r.body, /invalid_client/);
  });

  it('refuses a CIMD client_id on a private or loopback address (SSRF)', async () => {
    for (const clientId of [
      'https://10.0.0.7/client.json',
      'https://127.0.0.1:9/client.json',
      'https://[::1]/c',
    ]) {
      const r = await authorize(authorizeUrl(srv.url, { clientId, challenge: pkce().challenge }));
      assert.equal(r.status, 400, clientId);
      assert.match(r.body, /invalid_client/, clientId);
      const t = await tokenRequest(srv.url, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: 'x',
      });
      assert.equal(t.body.error, 'invalid_client', clientId);
    }
  });
});

describe('refresh tokens', () => {
  it('100 concurrent refreshes of one token mint exactly one new pair; a replay after the grace window revokes the grant', async () => {
    // Its own server with a grace window wide enough for 100 requests on a loaded 2-core machine:
    // a loser that arrived after the window would (rightly) be a replay and revoke the grant.
    const graceSeconds = 10;
    const srv = await startTestServer({
      SEKISHO_DEMO: '1',
      SEKISHO_REFRESH_REUSE_GRACE_SECONDS: String(graceSeconds),
    });
    after(() => srv.close());
    const { client, tokens } = await signIn(srv.url, demo);
    const old = tokens.body.refresh_token;
    const results = await Promise.all(
      Array.from({ length: 100 }, () => refresh(srv.url, { clientId: client.client_id, refreshToken: old })),
    );
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1);
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_grant');
    }
    // Exactly one pair exists: the grant holds one live refresh token, the winner's.
    const user = await srv.sekisho.identity.findByUsername('demo');
    const [grant, ...others] = await srv.sekisho.authorizationServer!.listGrants({
      accountId: user!.id,
      clientId: client.client_id,
    });
    assert.equal(others.length, 0);
    // The losers were inside the grace window: the grant survives, the winner's token works.
    const next = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: winners[0]!.body.refresh_token,
    });
    assert.equal(next.status, 200);
    // After the grace window, presenting the raced token again is a replay: the whole grant goes.
    // `consumed` has whole-second resolution and the window is inclusive (`now - consumed <= grace`),
    // so "after the window" means more than grace + 1 s after the consumption, whatever its fraction.
    await new Promise((r) => setTimeout(r, (graceSeconds + 1) * 1000 + 500));
    const replay = await refresh(srv.url, { clientId: client.client_id, refreshToken: old });
    assert.equal(replay.body.error, 'invalid_grant');
    const victim = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: next.body.refresh_token,
    });
    assert.equal(
      victim.body.error,
      'invalid_grant',
      `the replay must have revoked the grant: ${victim.status}`,
    );
    const access = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${next.body.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(access.status, 401, 'the access token of a revoked grant must stop working at once');
    const left = await srv.sekisho.authorizationServer!.listGrants({
      accountId: user!.id,
      clientId: client.client_id,
    });
    assert.deepEqual(left, [], `grant ${grant?.grantId} should be revoked`);
  });

  it('a retry within the grace window is refused without revoking; a replay after it revokes the grant', async () => {
    const { client, tokens } = await signIn(srv.url, demo);
    const old = tokens.body.refresh_token;
    const rotated = await refresh(srv.url, { clientId: client.client_id, refreshToken: old });
    assert.equal(rotated.status, 200);
    const retry = await refresh(srv.url, { clientId: client.client_id, refreshToken: old });
    assert.equal(retry.status, 400);
    assert.equal(retry.body.error, 'invalid_grant');
    await new Promise((r) => setTimeout(r, 2_100)); // grace is 1 s in this server
    const replay = await refresh(srv.url, { clientId: client.client_id, refreshToken: old });
    assert.equal(replay.body.error, 'invalid_grant');
    const victim = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: rotated.body.refresh_token,
    });
    assert.equal(victim.status, 400);
    assert.equal(victim.body.error, 'invalid_grant');
    const user = await srv.sekisho.identity.findByUsername('demo');
    const left = await srv.sekisho.authorizationServer!.listGrants({
      accountId: user!.id,
      clientId: client.client_id,
    });
    assert.equal(left.length, 0);
  });

  it('refuses a refresh token presented by another client', async () => {
    const { tokens } = await signIn(srv.url, demo);
    const other = await registerClient(srv.url);
    const r = await refresh(srv.url, { clientId: other.client_id, refreshToken: tokens.body.refresh_token });
    assert.equal(r.body.error, 'invalid_grant');
  });
});
