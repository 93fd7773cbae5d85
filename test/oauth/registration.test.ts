/**
 * Clients: dynamic registration (RFC 7591) as real MCP clients send it, its limits, confidential
 * clients with secrets stored only as digests, and client ID metadata documents.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SqliteStorage } from '../../src/storage/sqlite/index.ts';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { authorizeUrl, exchangeCode, pkce, signIn, tokenRequest } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let cimdServer: Server;
let cimdOrigin: string;
let documents: Record<string, unknown>;

before(async () => {
  documents = {};
  cimdServer = createServer((req, res) => {
    const doc = documents[req.url ?? ''];
    if (!doc) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'max-age=60');
    res.end(typeof doc === 'string' ? doc : JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => cimdServer.listen(0, '127.0.0.1', resolve));
  const port = (cimdServer.address() as AddressInfo).port;
  cimdOrigin = `https://127.0.0.1:${port}`;
  srv = await startTestServer({
    SEKISHO_DEMO: '1',
    SEKISHO_REGISTRATIONS_PER_HOUR: '40',
    SEKISHO_CIMD_ALLOW_HOSTS: `127.0.0.1:${port}`,
  });
});
after(async () => {
  await srv?.close();
  cimdServer?.close();
});

const demo = { username: 'demo', password: 'demo123' };

async function register(body: unknown) {
  const res = await fetch(`${srv.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('dynamic client registration', () => {
  it('accepts the v1 SDK body (no application_type) and the v2/mcp-remote body (native)', async () => {
    const v1 = await register({
      client_name: 'v1',
      redirect_uris: ['http://127.0.0.1:61000/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools',
    });
    assert.equal(v1.status, 201);
    assert.equal(v1.body.application_type, 'web');
    const v2 = await register({
      client_name: 'mcp-remote',
      redirect_uris: ['http://localhost:3334/oauth/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      scope: 'mcp:tools mcp:data offline_access',
    });
    assert.equal(v2.status, 201);
    assert.equal(v2.body.application_type, 'native');
    assert.equal(v2.body.client_secret, undefined);
  });

  it('ignores `scope` in the body: it must not become an allow-list that blocks step-up', async () => {
    const reg = await register({
      redirect_uris: ['http://127.0.0.1:53682/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'mcp:tools some-unknown-scope',
    });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.scope, undefined);
    const { tokens } = await signIn(
      srv.url,
      { username: 'admin', password: 'admin123' },
      {
        client: reg.body,
        scope: 'mcp:tools mcp:admin',
      },
    );
    assert.equal(tokens.body.scope, 'mcp:tools mcp:admin');
  });

  it('allows http redirect URIs on loopback only', async () => {
    const bad = await register({
      redirect_uris: ['http://app.example.com/cb'],
      token_endpoint_auth_method: 'none',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_redirect_uri');
    for (const uri of [
      'http://127.0.0.1/cb',
      'http://[::1]:8080/cb',
      'http://localhost:9/cb',
      'https://app.example/cb',
    ]) {
      const ok = await register({ redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      assert.equal(ok.status, 201, uri);
    }
  });

  it('limits the number of redirect URIs and the body size', async () => {
    const many = await register({
      redirect_uris: Array.from({ length: 11 }, (_, i) => `http://127.0.0.1/cb${i}`),
      token_endpoint_auth_method: 'none',
    });
    assert.equal(many.status, 400);
    assert.equal(many.body.error, 'invalid_redirect_uri');
    const huge = await register({
      redirect_uris: ['http://127.0.0.1/cb'],
      token_endpoint_auth_method: 'none',
      client_name: 'x'.repeat(20_000),
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error, 'invalid_client_metadata');
    const notJson = await register('not json');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error, 'invalid_request');
  });

  it('registers confidential clients, stores only a digest of the secret, authenticates with it', async () => {
    const reg = await register({
      client_name: 'server app',
      redirect_uris: ['https://app.example/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    assert.equal(reg.status, 201);
    const secret: string = reg.body.client_secret;
    assert.ok(secret.length >= 64);
    const db = (srv.sekisho.storage as SqliteStorage).db;
    const row = db
      .prepare("SELECT payload FROM oidc_models WHERE model = 'Client' AND id = ?")
      .get(reg.body.client_id) as {
      payload: string;
    };
    assert.ok(!row.payload.includes(secret));
    assert.match(JSON.parse(row.payload).client_secret, /^sha256:/);

    const { verifier, challenge } = pkce();
    const redirectUri = 'https://app.example/callback';
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, { clientId: reg.body.client_id, challenge, redirectUri }),
      demo,
    );
    const code = flow.callback.searchParams.get('code')!;
    const basic = (s: string) => `Basic ${Buffer.from(`${reg.body.client_id}:${s}`).toString('base64')}`;
    const params = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    };
    const wrong = await tokenRequest(srv.url, params, { authorization: basic(`${secret}x`) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const right = await tokenRequest(srv.url, params, { authorization: basic(secret) });
    assert.equal(right.status, 200);
    // Introspection is client-authenticated and limited to the client's own tokens.
    const intro = await fetch(`${srv.url}/oauth/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(secret) },
      body: new URLSearchParams({ token: right.body.refresh_token }).toString(),
    });
    const body = await intro.json();
    assert.equal(body.active, true);
    assert.equal(body.client_id, reg.body.client_id);
  });

  it('revokes a refresh token (RFC 7009), which revokes its grant', async () => {
    const { client, tokens } = await signIn(srv.url, demo);
    const res = await fetch(`${srv.url}/oauth/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.body.refresh_token, client_id: client.client_id }).toString(),
    });
    assert.equal(res.status, 200);
    const user = await srv.sekisho.identity.findByUsername('demo');
    const grants = await srv.sekisho.authorizationServer!.listGrants({
      accountId: user!.id,
      clientId: client.client_id,
    });
    assert.equal(grants.length, 0);
  });

  it('answers CORS on registration for browser-based clients', async () => {
    const pre = await fetch(`${srv.url}/oauth/register`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://inspector.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Content-Type/);
    const res = await fetch(`${srv.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://inspector.example' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    await res.body?.cancel();
  });

  it('lets unused clients expire after the idle TTL and slides it forward on use', async () => {
    const db = (srv.sekisho.storage as SqliteStorage).db;
    const row = (id: string) =>
      db
        .prepare("SELECT expires_at, last_used_at FROM oidc_models WHERE model = 'Client' AND id = ?")
        .get(id) as {
        expires_at: number;
        last_used_at: number | null;
      };
    const t0 = Date.now();
    const { client_id } = (
      await register({
        redirect_uris: ['http://127.0.0.1:53682/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      })
    ).body;
    const fresh = row(client_id);
    const ttlMs = srv.config.clientIdleTtlSeconds * 1000;
    assert.ok(fresh.expires_at >= t0 + ttlMs - 1000 && fresh.expires_at <= Date.now() + ttlMs + 1000);
    assert.equal(fresh.last_used_at, null);
    await new Promise((r) => setTimeout(r, 20));
    await signIn(srv.url, demo, {
      client: { client_id, redirect_uris: ['http://127.0.0.1:53682/callback'] },
    });
    const used = row(client_id);
    assert.ok(used.last_used_at !== null && used.last_used_at >= t0);
    assert.ok(used.expires_at > fresh.expires_at);
  });

  it('rate-limits registrations per client IP with 429 and Retry-After', async () => {
    const limited = await startTestServer({ SEKISHO_REGISTRATIONS_PER_HOUR: '2' });
    try {
      const body = JSON.stringify({
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'none',
      });
      const post = () =>
        fetch(`${limited.url}/oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
      assert.equal((await post()).status, 201);
      assert.equal((await post()).status, 201);
      const third = await post();
      assert.equal(third.status, 429);
      assert.ok(Number(third.headers.get('retry-after')) > 0);
      assert.equal((await third.json()).error, 'temporarily_unavailable');
    } finally {
      await limited.close();
    }
  });
});

describe('client ID metadata documents', () => {
  it('resolves an https client_id URL (allow-listed test host) and completes the flow', async () => {
    const clientId = `${cimdOrigin}/client.json`;
    documents['/client.json'] = {
      client_id: clientId,
      client_name: 'CIMD app',
      redirect_uris: ['http://127.0.0.1:53682/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
    const { verifier, challenge } = pkce();
    const flow = await browserlessLogin(authorizeUrl(srv.url, { clientId, challenge }), demo);
    assert.match(flow.pages[0]!.html, /CIMD app/);
    const tokens = await exchangeCode(srv.url, {
      clientId,
      code: flow.callback.searchParams.get('code')!,
      verifier,
    });
    assert.equal(tokens.status, 200);
  });

  it('refuses a document whose client_id is not its URL, or that is too large', async () => {
    documents['/liar.json'] = {
      client_id: `${cimdOrigin}/someone-else.json`,
      redirect_uris: ['http://127.0.0.1:53682/callback'],
      token_endpoint_auth_method: 'none',
    };
    documents['/big.json'] = JSON.stringify({
      client_id: `${cimdOrigin}/big.json`,
      redirect_uris: ['http://127.0.0.1:53682/callback'],
      token_endpoint_auth_method: 'none',
      client_name: 'x'.repeat(6_000),
    });
    for (const path of ['/liar.json', '/big.json', '/missing.json']) {
      const res = await fetch(
        authorizeUrl(srv.url, { clientId: `${cimdOrigin}${path}`, challenge: pkce().challenge }),
        {
          redirect: 'manual',
        },
      );
      assert.equal(res.status, 400, path);
      assert.equal(res.headers.get('location'), null, path);
      const html = await res.text();
      assert.match(html, /invalid_client/, path);
    }
  });
});
