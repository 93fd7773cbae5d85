/**
 * Two Sekisho instances sharing PostgreSQL and Redis (one issuer, as behind a load balancer), for the
 * one-time and server-made values of issue 13: an ID-JAG redeemed at one instance is a replay at the
 * other (its `jti` lives in Redis), also when both get it at once; a DPoP nonce handed out by one is
 * accepted by the other at the token endpoint and at /mcp (nonces derive from the shared signing
 * keys and the minute — nothing is shared at run time).
 *
 * Needs PostgreSQL and Redis: skips loudly without them, fails under CI=true.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { addOperatorClient } from '../../src/oauth/operator-clients.ts';
import { AUTH_STATUS_CALL, AUTH_STATUS_HEADERS, dpopProof } from '../helpers/dpop.ts';
import { rawPost } from '../helpers/mcp-http.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import { basicAuth, es256KeyPair, type KeyPair } from '../helpers/operator-clients.ts';
import { freshSchema, postgresUnavailable, TEST_DATABASE_URL, type TestSchema } from '../helpers/postgres.ts';
import { dropPrefix, freshPrefix, redisUnavailable, TEST_REDIS_URL } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = (await postgresUnavailable()) ?? (await redisUnavailable());

const ISSUER = 'https://mcp.cluster.test';
const MCP = `${ISSUER}/mcp`;
const IDP = 'https://idp.cluster.test';
const CLIENT = 'cluster-assistant';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let a: TestServer;
let b: TestServer;
let schema: TestSchema;
let prefix: string;
let secret: string;
let idpKey: CryptoKey;
let dpopKey: KeyPair;

before(async () => {
  if (skip) return;
  schema = await freshSchema();
  prefix = freshPrefix('h13');
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  idpKey = privateKey;
  const env = {
    SEKISHO_DATABASE_URL: TEST_DATABASE_URL,
    SEKISHO_DATABASE_SCHEMA: schema.name,
    SEKISHO_DATABASE_POOL_SIZE: '3',
    SEKISHO_REDIS_URL: TEST_REDIS_URL,
    SEKISHO_REDIS_KEY_PREFIX: prefix,
    SEKISHO_BASE_URL: ISSUER,
    SEKISHO_DEMO: '1',
    SEKISHO_ANONYMOUS: '0',
    SEKISHO_DPOP_NONCES: '1',
    SEKISHO_ENTERPRISE_IDPS: JSON.stringify([
      {
        issuer: IDP,
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256' }] },
        clients: [CLIENT],
        users: 'jit',
      },
    ]),
  };
  a = await startTestServer(env); // first: it migrates the schema and makes the signing key
  b = await startTestServer(env);
  const client = await addOperatorClient(a.sekisho.storage, {
    name: 'Cluster assistant',
    clientId: CLIENT,
    enterprise: true,
    serviceRole: 'user',
    auth: 'client_secret_basic',
  });
  secret = client.clientSecret!;
  dpopKey = await es256KeyPair();
});

after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  if (skip) return;
  await dropPrefix(prefix);
  await schema.drop();
});

function idJag(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: CLIENT, resource: MCP, scope: 'mcp:tools' })
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'oauth-id-jag+jwt' })
    .setIssuer(IDP)
    .setSubject('cluster-user')
    .setAudience(ISSUER)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(idpKey);
}

function redeem(at: TestServer, assertion: string) {
  return tokenRequest(
    at.loopbackUrl,
    { grant_type: JWT_BEARER, assertion },
    { authorization: basicAuth(CLIENT, secret) },
  );
}

describe('issue 13 values across instances (PostgreSQL + Redis)', { skip }, () => {
  it('an ID-JAG redeemed at one instance is a replay at the other, also when both get it at once', async () => {
    const jag = await idJag();
    const first = await redeem(a, jag);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await redeem(b, jag);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    assert.match(String(again.body.error_description), /already used/);

    const racing = await idJag();
    const answers = await Promise.all([
      redeem(a, racing),
      redeem(b, racing),
      redeem(a, racing),
      redeem(b, racing),
    ]);
    assert.equal(
      answers.filter((r) => r.status === 200).length,
      1,
      JSON.stringify(answers.map((r) => r.body)),
    );
  });

  it('a DPoP nonce from one instance is good at the other, at the token endpoint and at /mcp', async () => {
    const cc = (at: TestServer, proof: string) =>
      tokenRequest(
        at.loopbackUrl,
        { grant_type: 'client_credentials', resource: MCP, scope: 'mcp:tools' },
        { authorization: basicAuth(CLIENT, secret), dpop: proof },
      );
    // The token endpoint's htu as oidc-provider sees it here: the base URL's scheme (https, as behind a
    // TLS terminator) and the host the request came to.
    const tokenUrl = (at: TestServer) => `${at.loopbackUrl.replace(/^http:/, 'https:')}/oauth/token`;
    const first = await cc(a, await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(a) }));
    assert.equal(first.body.error, 'use_dpop_nonce', JSON.stringify(first.body));
    const nonceFromA = first.headers.get('dpop-nonce')!;
    const atB = await cc(b, await dpopProof(dpopKey, { htm: 'POST', htu: tokenUrl(b), nonce: nonceFromA }));
    assert.equal(atB.status, 200, JSON.stringify(atB.body));
    const token = atB.body.access_token as string;

    const call = async (at: TestServer, nonce?: string) =>
      rawPost(`${at.loopbackUrl}/mcp`, AUTH_STATUS_CALL, {
        ...AUTH_STATUS_HEADERS,
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(dpopKey, {
          htm: 'POST',
          htu: MCP,
          accessToken: token,
          body: AUTH_STATUS_CALL,
          ...(nonce ? { nonce } : {}),
        }),
      });
    const challenged = await call(b);
    assert.equal(challenged.status, 401);
    assert.match(challenged.headers.get('www-authenticate') ?? '', /error="use_dpop_nonce"/);
    const fromB = challenged.headers.get('dpop-nonce')!;
    const answered = await call(a, fromB);
    assert.equal(answered.status, 200, answered.text);
  });
});
