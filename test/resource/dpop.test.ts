/**
 * DPoP (RFC 9449, MCP ext-auth DPoP profile) end to end over real HTTP: a client sends a proof to
 * the token endpoint and gets a token bound to its key (`cnf.jkt`, token type DPoP); /mcp accepts
 * it only as `Authorization: DPoP` with a fresh proof for this method, URL, token, body and key —
 * on the fast lane and on the full pipeline alike — and keeps serving Bearer clients. Every bad
 * proof gets 401 with a `DPoP` challenge naming the accepted algorithms.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  AUTH_STATUS_CALL as CALL,
  dpopProof,
  AUTH_STATUS_HEADERS as MCP_HEADERS,
  thumbprint,
} from '../helpers/dpop.ts';
import { legacyInitialize, legacyPost, rawPost } from '../helpers/mcp-http.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import {
  type AddedClient,
  addClient,
  basicAuth,
  es256KeyPair,
  type KeyPair,
} from '../helpers/operator-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let robot: AddedClient;
let key: KeyPair;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_ANONYMOUS: '0' });
  robot = await addClient(srv, 'DPoP robot', ['--machine', '--role', 'user']);
  key = await es256KeyPair();
});
after(() => srv?.close());

async function boundToken(with_: KeyPair = key): Promise<string> {
  const proof = await dpopProof(with_, { htm: 'POST', htu: `${srv.url}/oauth/token` });
  const res = await tokenRequest(
    srv.url,
    { grant_type: 'client_credentials', resource: srv.mcpUrl, scope: 'mcp:tools' },
    { authorization: basicAuth(robot.clientId, robot.clientSecret!), dpop: proof },
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.token_type, 'DPoP');
  return res.body.access_token;
}

function call(authorization: string, proof?: string, body = CALL) {
  return rawPost(srv.mcpUrl, body, { ...MCP_HEADERS, authorization, ...(proof ? { dpop: proof } : {}) });
}

function assertDpopChallenge(res: { status: number; headers: Headers }, error: string) {
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^DPoP /);
  assert.match(challenge, new RegExp(`error="${error}"`));
  assert.match(challenge, /algs="ES256 EdDSA PS256 RS256"/);
  assert.match(challenge, /resource_metadata="/);
}

describe('DPoP: discovery and issuance', () => {
  it('the AS and the protected resource metadata advertise the proof algorithms', async () => {
    const as = await (await fetch(`${srv.url}/.well-known/oauth-authorization-server`)).json();
    assert.deepEqual(as.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'PS256', 'RS256']);
    const prm = await (await fetch(`${srv.url}/.well-known/oauth-protected-resource/mcp`)).json();
    assert.deepEqual(prm.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'PS256', 'RS256']);
    assert.equal(prm.dpop_bound_access_tokens_required, false);
  });

  it('a token request with a proof gets a DPoP token bound to the key (cnf.jkt)', async () => {
    const token = await boundToken();
    assert.deepEqual(decodeJwt(token).cnf, { jkt: await thumbprint(key) });
  });

  it('a token-endpoint proof for another URL is refused there (invalid_dpop_proof)', async () => {
    const proof = await dpopProof(key, { htm: 'POST', htu: `${srv.url}/elsewhere` });
    const res = await tokenRequest(
      srv.url,
      { grant_type: 'client_credentials', resource: srv.mcpUrl },
      { authorization: basicAuth(robot.clientId, robot.clientSecret!), dpop: proof },
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_dpop_proof');
  });
});

describe('DPoP at /mcp', () => {
  it('a fresh proof for POST /mcp with ath (and content_digest) is served, on the fast lane too', async () => {
    const token = await boundToken();
    const res = await call(
      `DPoP ${token}`,
      await dpopProof(key, { htm: 'POST', htu: srv.mcpUrl, accessToken: token, body: CALL }),
    );
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /service DPoP robot/);
    // Without content_digest (plain RFC 9449 clients) as well.
    const plain = await call(
      `DPoP ${token}`,
      await dpopProof(key, { htm: 'POST', htu: srv.mcpUrl, accessToken: token }),
    );
    assert.equal(plain.status, 200, plain.text);
  });

  it('the full pipeline (2025-era initialize) applies the same check once', async () => {
    const token = await boundToken();
    const body = JSON.stringify({ jsonrpc: '2.0', ...legacyInitialize() });
    const res = await legacyPost(srv.mcpUrl, legacyInitialize(), {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(key, { htm: 'POST', htu: srv.mcpUrl, accessToken: token, body }),
      },
    });
    assert.equal(res.status, 200, res.text);
  });

  it('refuses: another URL, another method, a replayed proof, a missing proof, another key', async () => {
    const token = await boundToken();
    const proofFor = (claims: Partial<Parameters<typeof dpopProof>[1]>, k: KeyPair = key) =>
      dpopProof(k, { htm: 'POST', htu: srv.mcpUrl, accessToken: token, ...claims });

    assertDpopChallenge(
      await call(`DPoP ${token}`, await proofFor({ htu: `${srv.url}/other` })),
      'invalid_dpop_proof',
    );
    assertDpopChallenge(await call(`DPoP ${token}`, await proofFor({ htm: 'GET' })), 'invalid_dpop_proof');

    const once = await proofFor({});
    assert.equal((await call(`DPoP ${token}`, once)).status, 200);
    const replayed = await call(`DPoP ${token}`, once);
    assertDpopChallenge(replayed, 'invalid_dpop_proof');
    assert.match(replayed.text, /already used/);

    assertDpopChallenge(await call(`DPoP ${token}`), 'invalid_dpop_proof');
    const other = await es256KeyPair();
    const mismatch = await call(`DPoP ${token}`, await proofFor({}, other));
    assertDpopChallenge(mismatch, 'invalid_dpop_proof');
    assert.match(mismatch.text, /another key/);
    // A header key that did not make the signature.
    assertDpopChallenge(
      await call(`DPoP ${token}`, await proofFor({ headerJwkFrom: other })),
      'invalid_dpop_proof',
    );
  });

  it('refuses: a proof for another token, too old, or for another body', async () => {
    const token = await boundToken();
    const otherToken = await boundToken();
    const proofFor = (claims: Partial<Parameters<typeof dpopProof>[1]>) =>
      dpopProof(key, { htm: 'POST', htu: srv.mcpUrl, accessToken: token, ...claims });
    assertDpopChallenge(
      await call(`DPoP ${token}`, await proofFor({ accessToken: otherToken })),
      'invalid_dpop_proof',
    );
    const old = Math.floor(Date.now() / 1000) - 301;
    assertDpopChallenge(await call(`DPoP ${token}`, await proofFor({ iat: old })), 'invalid_dpop_proof');
    const swapped = await call(
      `DPoP ${token}`,
      await proofFor({ body: CALL.replace('auth_status', 'hello_world') }),
    );
    assertDpopChallenge(swapped, 'invalid_dpop_proof');
    assert.match(swapped.text, /content_digest/);
  });

  it('a DPoP-bound token presented as Bearer is refused, naming DPoP', async () => {
    const token = await boundToken();
    const res = await call(`Bearer ${token}`);
    assertDpopChallenge(res, 'invalid_token');
    assert.match(res.text, /DPoP-bound/);
  });

  it('Bearer clients are served as before; a Bearer token under the DPoP scheme is refused', async () => {
    const res = await tokenRequest(
      srv.url,
      { grant_type: 'client_credentials', resource: srv.mcpUrl },
      { authorization: basicAuth(robot.clientId, robot.clientSecret!) },
    );
    assert.equal(res.body.token_type, 'Bearer');
    const ok = await call(`Bearer ${res.body.access_token}`);
    assert.equal(ok.status, 200);
    assert.doesNotMatch(ok.headers.get('www-authenticate') ?? '', /DPoP/);
    const proof = await dpopProof(key, { htm: 'POST', htu: srv.mcpUrl, accessToken: res.body.access_token });
    assertDpopChallenge(await call(`DPoP ${res.body.access_token}`, proof), 'invalid_token');
    // No credentials at all: the plain Bearer challenge existing clients parse.
    const none = await rawPost(srv.mcpUrl, CALL, MCP_HEADERS);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
  });
});
