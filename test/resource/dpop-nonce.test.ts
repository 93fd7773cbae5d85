/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9; SEKISHO_DPOP_NONCES=1) over real HTTP: the token
 * endpoint answers a proof without a nonce with `use_dpop_nonce` and a `DPoP-Nonce` header, /mcp with
 * 401 `WWW-Authenticate: DPoP error="use_dpop_nonce"` and the header; the retry with the nonce goes
 * through, on the fast lane and the full pipeline. One nonce serves the whole origin (token endpoint
 * and /mcp), forged or stale nonces are refused, a nonce refusal does not use up the proof, and any
 * instance sharing the keys accepts another's nonces (no shared state). The official v2 SDK client
 * with a DpopSession copes by itself. Off (the default), proofs without nonces keep working.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientCredentialsProvider, DpopSession } from '@modelcontextprotocol/client';
import { createDpopNonces, DPOP_NONCE_STEP_SECONDS } from '../../src/resource/dpop-nonce.ts';
import { connectV2 } from '../helpers/clients.ts';
import { AUTH_STATUS_CALL as CALL, dpopProof, AUTH_STATUS_HEADERS as MCP_HEADERS } from '../helpers/dpop.ts';
import { legacyInitialize, rawPost } from '../helpers/mcp-http.ts';
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
  srv = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_ANONYMOUS: '0', SEKISHO_DPOP_NONCES: '1' });
  robot = await addClient(srv, 'Nonce robot', ['--machine', '--role', 'user']);
  key = await es256KeyPair();
});
after(() => srv?.close());

function tokenWithProof(proof: string) {
  return tokenRequest(
    srv.url,
    { grant_type: 'client_credentials', resource: srv.mcpUrl, scope: 'mcp:tools' },
    { authorization: basicAuth(robot.clientId, robot.clientSecret!), dpop: proof },
  );
}

/** A bound token obtained the way a client must: first try, read the nonce, retry. */
async function boundToken(): Promise<{ token: string; nonce: string }> {
  const htu = `${srv.url}/oauth/token`;
  const first = await tokenWithProof(await dpopProof(key, { htm: 'POST', htu }));
  const nonce = first.headers.get('dpop-nonce');
  assert.ok(nonce);
  const second = await tokenWithProof(await dpopProof(key, { htm: 'POST', htu, nonce }));
  assert.equal(second.status, 200, JSON.stringify(second.body));
  return { token: second.body.access_token, nonce: second.headers.get('dpop-nonce') ?? nonce };
}

async function call(
  token: string,
  claims: { nonce?: string; jti?: string } = {},
  body = CALL,
  headers = MCP_HEADERS,
) {
  const proof = await dpopProof(key, { htm: 'POST', htu: srv.mcpUrl, accessToken: token, body, ...claims });
  return {
    proof,
    res: await rawPost(srv.mcpUrl, body, { ...headers, authorization: `DPoP ${token}`, dpop: proof }),
  };
}

function assertNonceChallenge(res: { status: number; headers: Headers }) {
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP .*error="use_dpop_nonce"/);
  assert.ok(res.headers.get('dpop-nonce'), 'the answer carries the nonce to retry with');
}

describe('DPoP nonces at the token endpoint', () => {
  it('a proof without a nonce gets use_dpop_nonce and a DPoP-Nonce header; the retry with it works', async () => {
    const first = await tokenWithProof(await dpopProof(key, { htm: 'POST', htu: `${srv.url}/oauth/token` }));
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    assert.ok(first.headers.get('dpop-nonce'));
    const { token } = await boundToken();
    assert.ok(token);
  });

  it('a forged nonce is refused the same way', async () => {
    const res = await tokenWithProof(
      await dpopProof(key, { htm: 'POST', htu: `${srv.url}/oauth/token`, nonce: 'forged-nonce' }),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'use_dpop_nonce');
  });
});

describe('DPoP nonces at /mcp', () => {
  it('no nonce → 401 use_dpop_nonce with DPoP-Nonce; the retry with it succeeds', async () => {
    const { token } = await boundToken();
    const { res: first } = await call(token);
    assertNonceChallenge(first);
    const { res: second } = await call(token, { nonce: first.headers.get('dpop-nonce')! });
    assert.equal(second.status, 200, second.text);
    assert.match(second.text, /service Nonce robot/);
  });

  it('one nonce serves the origin: the token endpoint’s nonce is good at /mcp', async () => {
    const { token, nonce } = await boundToken();
    const { res } = await call(token, { nonce });
    assert.equal(res.status, 200, res.text);
  });

  it('the full pipeline (a 2025 initialize) asks for the nonce the same way', async () => {
    const { token, nonce } = await boundToken();
    const body = JSON.stringify({ jsonrpc: '2.0', ...legacyInitialize() });
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    } as typeof MCP_HEADERS;
    const { res: without } = await call(token, {}, body, headers);
    assertNonceChallenge(without);
    const { res: withNonce } = await call(token, { nonce }, body, headers);
    assert.equal(withNonce.status, 200, withNonce.text);
  });

  it('a forged nonce is refused; the refusal does not use up the proof’s jti', async () => {
    const { token, nonce } = await boundToken();
    const jti = `jti-${Date.now()}`;
    const { res: forged } = await call(token, { nonce: `${nonce.slice(0, -2)}xx`, jti });
    assertNonceChallenge(forged);
    const { res: retried } = await call(token, { nonce, jti });
    assert.equal(retried.status, 200, retried.text);
    const { res: replayed } = await call(token, { nonce, jti });
    assert.equal(replayed.status, 401);
    assert.match(replayed.headers.get('www-authenticate') ?? '', /invalid_dpop_proof/);
  });

  it('Bearer clients are untouched', async () => {
    const res = await tokenRequest(
      srv.url,
      { grant_type: 'client_credentials', resource: srv.mcpUrl, scope: 'mcp:tools' },
      { authorization: basicAuth(robot.clientId, robot.clientSecret!) },
    );
    assert.equal(res.body.token_type, 'Bearer');
    const answer = await rawPost(srv.mcpUrl, CALL, {
      ...MCP_HEADERS,
      authorization: `Bearer ${res.body.access_token}`,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('dpop-nonce'), null);
  });

  it('the official v2 SDK client with a DpopSession retries on use_dpop_nonce by itself', async () => {
    class DpopClientCredentials extends ClientCredentialsProvider {
      readonly session = DpopSession.create();
      dpop() {
        return this.session;
      }
    }
    const conn = await connectV2(srv.mcpUrl, {
      mode: 'modern',
      authProvider: new DpopClientCredentials({
        clientId: robot.clientId,
        clientSecret: robot.clientSecret!,
        scope: 'mcp:tools',
        expectedIssuer: srv.url,
      }),
    });
    try {
      const result = await conn.client.callTool({ name: 'auth_status', arguments: {} });
      assert.equal((result.structuredContent as { kind?: string }).kind, 'service');
    } finally {
      await conn.close();
    }
  });
});

describe('DPoP nonces without shared state', () => {
  const keyA = Buffer.alloc(32, 1);
  const keyB = Buffer.alloc(32, 2);

  it('instances deriving the same keys accept each other’s nonces; other keys do not', () => {
    const t = 1_700_000_000_000;
    const one = createDpopNonces(
      () => [keyA],
      () => t,
    );
    const other = createDpopNonces(
      () => [keyA],
      () => t + 1_000,
    );
    const stranger = createDpopNonces(
      () => [keyB],
      () => t,
    );
    assert.ok(other.valid(one.current()));
    assert.ok(!stranger.valid(one.current()));
  });

  it('a nonce lives a few minutes, and survives a key rotation while the old key is published', () => {
    let t = 1_700_000_000_000;
    let keys: Buffer[] = [keyA];
    const nonces = createDpopNonces(
      () => keys,
      () => t,
    );
    const issued = nonces.current();
    t += 3 * DPOP_NONCE_STEP_SECONDS * 1000;
    assert.ok(nonces.valid(issued), 'still good three minutes later');
    keys = [keyB, keyA];
    assert.ok(nonces.valid(issued), 'good after a rotation');
    t += 4 * DPOP_NONCE_STEP_SECONDS * 1000;
    assert.ok(!nonces.valid(issued), 'stale after seven minutes');
    for (const bad of [undefined, 1, '', 'x'.repeat(100), 'not-a-nonce']) assert.ok(!nonces.valid(bad));
  });
});
