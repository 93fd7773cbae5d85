/**
 * The authorization-code flow with PKCE through the real login and consent pages (cookie-jar
 * client), and what comes out: an RFC 9068 access token for /mcp carrying the grant id, a rotating
 * refresh token, scopes decided by the user's role, "remember my decision".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { authorizeUrl, exchangeCode, pkce, refresh, registerClient, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv?.close());

const demo = { username: 'demo', password: 'demo123' };
const admin = { username: 'admin', password: 'admin123' };

describe('authorization code + PKCE through the pages', () => {
  it('issues an RFC 9068 JWT for /mcp with gid, sub, client_id and scope; iss and state come back', async () => {
    const { client, flow, tokens } = await signIn(srv.url, demo, { scope: 'mcp:tools', state: 'xyz' });
    assert.equal(flow.callback.origin, 'http://127.0.0.1:53682');
    assert.equal(flow.callback.searchParams.get('state'), 'xyz');
    assert.equal(flow.callback.searchParams.get('iss'), srv.url); // RFC 9207
    assert.deepEqual(
      flow.pages.map((p) => p.status),
      [200, 200],
    );
    assert.match(flow.pages[0]!.html, /action="\/interaction\/[^"]+\/login"/);
    assert.match(flow.pages[1]!.html, /action="\/interaction\/[^"]+\/consent"/);

    assert.equal(tokens.status, 200);
    assert.equal(tokens.headers.get('cache-control'), 'no-store');
    assert.equal(tokens.body.token_type, 'Bearer');
    assert.equal(tokens.body.expires_in, srv.config.accessTokenTtlSeconds);
    assert.equal(tokens.body.scope, 'mcp:tools');
    assert.equal(typeof tokens.body.refresh_token, 'string');

    const at: string = tokens.body.access_token;
    assert.equal(decodeProtectedHeader(at).typ, 'at+jwt');
    assert.equal(decodeProtectedHeader(at).alg, 'ES256');
    const local = createLocalJWKSet({ keys: [...srv.sekisho.authorizationServer!.verificationKeys.keys] });
    const { payload } = await jwtVerify(at, local, {
      issuer: srv.url,
      audience: `${srv.url}/mcp`,
      typ: 'at+jwt',
    });
    const user = await srv.sekisho.identity.findByUsername('demo');
    assert.equal(payload.sub, user!.id);
    assert.equal(payload.client_id, client.client_id);
    assert.equal(payload.scope, 'mcp:tools');
    assert.equal(typeof payload.gid, 'string');
    const grants = await srv.sekisho.authorizationServer!.listGrants({ accountId: user!.id });
    assert.ok(grants.some((g) => g.grantId === payload.gid && g.clientId === client.client_id));
    // The published JWKS verifies it too.
    await jwtVerify(at, createRemoteJWKSet(new URL(`${srv.url}/oauth/jwks`)), { audience: `${srv.url}/mcp` });
  });

  it('rotates the refresh token on every use and keeps the grant', async () => {
    const { client, tokens } = await signIn(srv.url, demo);
    const first = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refresh_token, tokens.body.refresh_token);
    const second = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: first.body.refresh_token,
    });
    assert.equal(second.status, 200);
    assert.notEqual(second.body.refresh_token, first.body.refresh_token);
    const { payload } = await jwtVerify(
      second.body.access_token,
      createLocalJWKSet({ keys: [...srv.sekisho.authorizationServer!.verificationKeys.keys] }),
      { audience: `${srv.url}/mcp` },
    );
    assert.equal(payload.scope, tokens.body.scope);
  });

  it('gives the basic scope set to a request without scope (and without resource)', async () => {
    const client = await registerClient(srv.url);
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(srv.url, { clientId: client.client_id, challenge, state: 's' });
    const flow = await browserlessLogin(url, demo);
    const code = flow.callback.searchParams.get('code')!;
    assert.ok(code, flow.callback.href);
    const tokens = await exchangeCode(srv.url, { clientId: client.client_id, code, verifier });
    assert.equal(tokens.status, 200);
    assert.equal(tokens.body.scope, 'mcp:tools mcp:data');
  });

  it('downscopes to what the role allows instead of refusing', async () => {
    const asked = 'mcp:tools mcp:data mcp:admin offline_access';
    const user = await signIn(srv.url, demo, { scope: asked });
    assert.equal(user.tokens.status, 200);
    assert.equal(user.tokens.body.scope, 'mcp:tools mcp:data');
    assert.match(user.flow.pages[1]!.html, /mcp:admin/); // shown as not granted
    const boss = await signIn(srv.url, admin, { scope: asked });
    assert.equal(boss.tokens.body.scope, 'mcp:tools mcp:data mcp:admin');
  });

  it('grants the basic set when every requested scope is beyond the role', async () => {
    const only = await signIn(srv.url, demo, { scope: 'mcp:admin' });
    assert.equal(only.tokens.status, 200);
    assert.equal(only.tokens.body.scope, 'mcp:tools mcp:data');
  });

  it('issues refresh tokens without offline_access when the client registered refresh_token', async () => {
    const { tokens } = await signIn(srv.url, demo, { scope: 'mcp:tools' });
    assert.equal(typeof tokens.body.refresh_token, 'string');
    const noRefresh = await registerClient(srv.url, { grant_types: ['authorization_code'] });
    const other = await signIn(srv.url, demo, { client: noRefresh });
    assert.equal(other.tokens.status, 200);
    assert.equal(other.tokens.body.refresh_token, undefined);
  });

  it('asks for consent again unless the user ticked "remember my decision"', async () => {
    const client = await registerClient(srv.url);
    const once = await signIn(srv.url, demo, { client });
    assert.equal(once.flow.pages.length, 2); // login + consent
    // Same browser session (SSO), no remember: consent again, no login.
    const again = await signIn(srv.url, { ...demo, jar: once.flow.jar }, { client });
    assert.equal(again.flow.pages.length, 1);
    assert.match(again.flow.pages[0]!.html, /\/consent"/);
    // Remember this time, then the next request needs no page at all.
    const remembered = await signIn(srv.url, { ...demo, jar: once.flow.jar, remember: true }, { client });
    assert.equal(remembered.flow.pages.length, 1);
    const silent = await signIn(srv.url, { ...demo, jar: once.flow.jar }, { client });
    assert.equal(silent.flow.pages.length, 0);
    assert.equal(silent.tokens.status, 200);
    // prompt=consent still asks.
    const { challenge } = pkce();
    const forced = await browserlessLogin(
      authorizeUrl(srv.url, { clientId: client.client_id, challenge, prompt: 'consent' }),
      { ...demo, jar: once.flow.jar },
    );
    assert.equal(forced.pages.length, 1);
  });

  it('asks again for new scopes, and the latest "remember" answer counts', async () => {
    const client = await registerClient(srv.url);
    const first = await signIn(srv.url, { ...admin, remember: true }, { client, scope: 'mcp:tools' });
    const jar = first.flow.jar;
    const silent = await signIn(srv.url, { ...admin, jar }, { client, scope: 'mcp:tools' });
    assert.equal(silent.flow.pages.length, 0);
    // Step-up to a scope not yet granted: consent again; this time without "remember".
    const stepUp = await signIn(srv.url, { ...admin, jar }, { client, scope: 'mcp:tools mcp:admin' });
    assert.equal(stepUp.flow.pages.length, 1);
    assert.equal(stepUp.tokens.body.scope, 'mcp:tools mcp:admin');
    const asksAgain = await signIn(srv.url, { ...admin, jar }, { client, scope: 'mcp:tools' });
    assert.equal(asksAgain.flow.pages.length, 1);
  });

  it('accepts a loopback redirect on another port than registered (RFC 8252 §7.3), web client too', async () => {
    const client = await registerClient(srv.url, { redirect_uris: ['http://127.0.0.1:53682/callback'] });
    assert.equal(client.application_type, 'web');
    const { verifier, challenge } = pkce();
    const redirectUri = 'http://127.0.0.1:40123/callback';
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, { clientId: client.client_id, challenge, redirectUri }),
      demo,
    );
    assert.equal(flow.callback.origin, 'http://127.0.0.1:40123');
    const tokens = await exchangeCode(srv.url, {
      clientId: client.client_id,
      code: flow.callback.searchParams.get('code')!,
      verifier,
      redirectUri,
    });
    assert.equal(tokens.status, 200);
  });

  it('denies with access_denied when the user clicks Deny', async () => {
    const client = await registerClient(srv.url);
    const { challenge } = pkce();
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, { clientId: client.client_id, challenge, state: 'd' }),
      { ...demo, consent: 'deny' },
    );
    assert.equal(flow.callback.searchParams.get('error'), 'access_denied');
    assert.equal(flow.callback.searchParams.get('state'), 'd');
    assert.equal(flow.callback.searchParams.get('iss'), srv.url);
  });

  it('serves OpenID clients: an ES256 ID token with the claims their scopes ask for', async () => {
    const { tokens } = await signIn(srv.url, demo, { scope: 'openid profile email mcp:tools' });
    assert.equal(tokens.status, 200);
    assert.equal(tokens.body.scope, 'mcp:tools'); // the access token's scope: /mcp scopes only
    const { payload } = await jwtVerify(
      tokens.body.id_token,
      createLocalJWKSet({ keys: [...srv.sekisho.authorizationServer!.verificationKeys.keys] }),
      { issuer: srv.url },
    );
    assert.equal(payload.preferred_username, 'demo');
    assert.equal(payload.name, 'Demo User');
    assert.equal(payload.email, 'demo@example.com');
  });

  it('mints tokens in process (issueAccessToken) that verify like any other and die with the grant', async () => {
    const user = (await srv.sekisho.identity.findByUsername('admin'))!;
    const as = srv.sekisho.authorizationServer!;
    const issued = await as.issueAccessToken({ accountId: user.id, scopes: ['mcp:tools', 'mcp:admin'] });
    assert.equal(issued.scope, 'mcp:tools mcp:admin');
    const { payload } = await jwtVerify(
      issued.accessToken,
      createLocalJWKSet({ keys: [...as.verificationKeys.keys] }),
      { issuer: srv.url, audience: `${srv.url}/mcp`, typ: 'at+jwt' },
    );
    assert.equal(payload.gid, issued.grantId);
    assert.equal(payload.client_id, 'sekisho-quick-login');
    const demoUser = (await srv.sekisho.identity.findByUsername('demo'))!;
    const clamped = await as.issueAccessToken({ accountId: demoUser.id, scopes: ['mcp:admin', 'mcp:tools'] });
    assert.equal(clamped.scope, 'mcp:tools');
    assert.equal(await as.revokeGrant(issued.grantId), true);
    assert.equal(
      (await as.listGrants({ accountId: user.id })).some((g) => g.grantId === issued.grantId),
      false,
    );
  });
});
