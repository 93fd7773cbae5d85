/**
 * Discovery: both well-known documents are oidc-provider's one document, carry what RFC 8414 and
 * MCP clients need, advertise nothing we do not fully support, and name the issuer exactly as the
 * base URL; openid-client's strict discovery accepts it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(() => srv?.close());

async function getJson(path: string) {
  const res = await fetch(`${srv.url}${path}`);
  assert.equal(res.status, 200, path);
  assert.match(res.headers.get('content-type') ?? '', /^application\/(jwk-set\+)?json/);
  return res.json();
}

describe('authorization server metadata', () => {
  it('serves the same document at both well-known paths, issuer = base URL exactly', async () => {
    const rfc8414 = await getJson('/.well-known/oauth-authorization-server');
    const openid = await getJson('/.well-known/openid-configuration');
    assert.deepEqual(rfc8414, openid);
    assert.equal(rfc8414.issuer, srv.url);
    assert.ok(!rfc8414.issuer.endsWith('/'));
  });

  it('has the RFC 8414 fields and the MCP-relevant capabilities', async () => {
    const m = await getJson('/.well-known/oauth-authorization-server');
    const base = srv.url;
    assert.equal(m.authorization_endpoint, `${base}/oauth/authorize`);
    assert.equal(m.token_endpoint, `${base}/oauth/token`);
    assert.equal(m.registration_endpoint, `${base}/oauth/register`);
    assert.equal(m.revocation_endpoint, `${base}/oauth/token/revocation`);
    assert.equal(m.introspection_endpoint, `${base}/oauth/token/introspection`);
    assert.equal(m.jwks_uri, `${base}/oauth/jwks`);
    assert.equal(m.userinfo_endpoint, `${base}/oauth/userinfo`);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.grant_types_supported, [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    assert.equal(m.client_id_metadata_document_supported, true);
    assert.ok(m.token_endpoint_auth_methods_supported.includes('none'));
    assert.ok(!m.token_endpoint_auth_methods_supported.includes('client_secret_jwt'));
    // Scopes from the tool registry, plus offline_access here (never in the resource metadata).
    for (const scope of ['offline_access', 'mcp:tools', 'mcp:data', 'mcp:admin', 'openid']) {
      assert.ok(m.scopes_supported.includes(scope), scope);
    }
    // Not advertised: features we do not offer.
    assert.equal(m.pushed_authorization_request_endpoint, undefined);
    assert.deepEqual(m.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'PS256', 'RS256']);
    assert.equal(m.end_session_endpoint, undefined);
    assert.equal(m.device_authorization_endpoint, `${srv.url}/oauth/device/auth`);
  });

  it('publishes an ES256 public key set without private parts', async () => {
    const jwks = await getJson('/oauth/jwks');
    assert.ok(jwks.keys.length >= 1);
    for (const key of jwks.keys) {
      assert.equal(key.kty, 'EC');
      assert.equal(key.crv, 'P-256');
      assert.equal(key.d, undefined);
    }
    assert.deepEqual(
      jwks.keys.map((k: { kid: string }) => k.kid),
      srv.sekisho.authorizationServer!.verificationKeys.keys.map((k) => k.kid),
    );
  });

  it('passes openid-client v6 discovery (strict issuer checks)', async () => {
    const config = await oidc.discovery(new URL(srv.url), 'probe-client', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, srv.url);
    assert.equal(meta.token_endpoint, `${srv.url}/oauth/token`);
    assert.equal(meta.supportsPKCE(), true);
  });

  it('keeps the seed’s endpoint paths as its own, and sends former paths on with a 308 (issue 9)', async () => {
    const m = await getJson('/.well-known/oauth-authorization-server');
    assert.deepEqual(
      [m.authorization_endpoint, m.token_endpoint, m.registration_endpoint, m.userinfo_endpoint],
      ['/oauth/authorize', '/oauth/token', '/oauth/register', '/oauth/userinfo'].map((p) => `${srv.url}${p}`),
    );
    for (const [former, current] of [
      ['/oauth/auth?client_id=x&scope=a%20b', '/oauth/authorize?client_id=x&scope=a%20b'],
      ['/oauth/reg', '/oauth/register'],
      ['/oauth/me', '/oauth/userinfo'],
    ] as const) {
      const res = await fetch(`${srv.url}${former}`, { method: 'POST', redirect: 'manual' });
      assert.equal(res.status, 308, former);
      assert.equal(res.headers.get('location'), current);
    }
    // A registration POSTed to the former path arrives, body and all.
    const reg = await fetch(`${srv.url}/oauth/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(reg.status, 201);
  });

  it('answers an unknown /oauth path with an OAuth 404, and leaves /mcp to the resource server', async () => {
    const res = await fetch(`${srv.url}/oauth/nope`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 404);
    await res.body?.cancel();
    const mcp = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    assert.notEqual(mcp.status, 404);
    await mcp.body?.cancel();
  });
});
