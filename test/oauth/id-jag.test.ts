/**
 * Enterprise-Managed Authorization (MCP ext-auth, SEP-990) end to end over real HTTP: an enterprise
 * IdP — a locally minted key served as JWKS on a loopback port — issues Identity Assertion JWT
 * Authorization Grants (`typ: oauth-id-jag+jwt`); an operator-registered `--enterprise` client
 * presents them with the RFC 7523 jwt-bearer grant and gets an audience-bound access token for the
 * linked (or just-in-time provisioned) local user, scopes cut by the IdP and the user's role. Each
 * refusal rule has its own case; the official v2 SDK's CrossAppAccessProvider gets in as a client
 * would.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CrossAppAccessProvider } from '@modelcontextprotocol/client';
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { jitUsername } from '../../src/oauth/id-jag/subjects.ts';
import { rawJws } from '../helpers/access-tokens.ts';
import { connectV2 } from '../helpers/clients.ts';
import { dpopProof, thumbprint } from '../helpers/dpop.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { type TokenResponse, tokenRequest } from '../helpers/oauth.ts';
import {
  type AddedClient,
  basicAuth,
  CLIENT_ASSERTION_TYPE,
  type CliRun,
  clientAssertion,
  es256KeyPair,
  type KeyPair,
  sekishoCliAt,
} from '../helpers/operator-clients.ts';
import { freshSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/postgres.ts';
import { startTestServer, type TestServer, testBackend } from '../helpers/server.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const IDP = 'https://acme.idp.example';
const JIT_IDP = 'https://jit.idp.example';
const DOWN_IDP = 'https://down.idp.example';

let srv: TestServer;
let dataDir: string;
let schema: TestSchema | undefined;
let dbEnv: Record<string, string> = {};
let jwksServer: Server;
let idpKey: { privateKey: CryptoKey; publicJwk: JWK };
let jitKey: { privateKey: CryptoKey; publicJwk: JWK };
let app: AddedClient;
let otherApp: AddedClient;
let jitOnlyApp: AddedClient;
/** Chosen before start (`--client-id`) so the IdP entry can name it. */
const SIGNED_APP = 'signed-assistant';
let signedAppKey: KeyPair;

function cli(args: readonly string[]): Promise<CliRun> {
  return sekishoCliAt(dataDir, args, dbEnv);
}

async function addEnterpriseClient(name: string): Promise<AddedClient> {
  const run = await cli(['clients', 'add', name, '--enterprise', '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as AddedClient;
}

async function rsaKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sekisho-idjag-'));
  if (testBackend() === 'postgres') {
    schema = await freshSchema();
    dbEnv = { SEKISHO_DATABASE_URL: TEST_DATABASE_URL, SEKISHO_DATABASE_SCHEMA: schema.name };
  }
  idpKey = await rsaKey('acme-1');
  const es = await es256KeyPair('jit-1');
  jitKey = { privateKey: es.privateKey, publicJwk: es.publicJwk };
  jwksServer = createServer((req, res) => {
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ keys: [idpKey.publicJwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksPort = (jwksServer.address() as { port: number }).port;

  // The operator registers the clients first (their ids go into the IdP entries), then starts.
  app = await addEnterpriseClient('Acme assistant');
  otherApp = await addEnterpriseClient('Another assistant');
  jitOnlyApp = await addEnterpriseClient('JIT assistant');
  signedAppKey = await es256KeyPair();
  const jwksFile = join(dataDir, 'signed-app-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [signedAppKey.publicJwk] }));
  const signed = await cli([
    'clients',
    'add',
    'Signed assistant',
    '--enterprise',
    '--client-id',
    SIGNED_APP,
    '--auth',
    'private_key_jwt',
    '--jwks',
    jwksFile,
  ]);
  assert.equal(signed.code, 0, signed.stderr);
  srv = await startTestServer({
    ...dbEnv,
    SEKISHO_DATA_DIR: dataDir,
    SEKISHO_DEMO: '1',
    SEKISHO_ANONYMOUS: '0',
    SEKISHO_ENTERPRISE_IDPS: JSON.stringify([
      {
        issuer: IDP,
        jwks_uri: `http://127.0.0.1:${jwksPort}/jwks`,
        clients: [app.clientId, otherApp.clientId, SIGNED_APP],
        users: 'linked',
      },
      { issuer: JIT_IDP, jwks: { keys: [jitKey.publicJwk] }, clients: [jitOnlyApp.clientId], users: 'jit' },
      // An IdP whose key set cannot be reached (nothing listens on port 1).
      { issuer: DOWN_IDP, jwks_uri: 'http://127.0.0.1:1/jwks', clients: [app.clientId] },
    ]),
  });
  for (const [user, sub] of [
    ['demo', 'U-DEMO'],
    ['admin', 'U-ADMIN'],
  ] as const) {
    const run = await cli(['users', 'link', user, '--issuer', IDP, '--subject', sub]);
    assert.equal(run.code, 0, run.stderr);
  }
});

after(async () => {
  await srv?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await schema?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface JagOptions {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly clientId?: string;
  readonly resource?: string | null;
  readonly scope?: string | null;
  readonly jti?: string;
  readonly iat?: number;
  readonly exp?: number;
  readonly typ?: string;
  readonly key?: { privateKey: CryptoKey; publicJwk: JWK };
  readonly extra?: Record<string, unknown>;
}

/** An ID-JAG as the enterprise IdP would mint it, every claim overridable. */
function idJag(o: JagOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const key = o.key ?? idpKey;
  const payload: Record<string, unknown> = {
    client_id: o.clientId ?? app.clientId,
    ...(o.resource === null ? {} : { resource: o.resource ?? srv.mcpUrl }),
    ...(o.scope === null ? {} : { scope: o.scope ?? 'mcp:tools mcp:data' }),
    email: 'someone@acme.example',
    ...o.extra,
  };
  return new SignJWT(payload)
    .setProtectedHeader({
      alg: key.publicJwk.alg as string,
      kid: key.publicJwk.kid,
      typ: o.typ ?? 'oauth-id-jag+jwt',
    })
    .setIssuer(o.iss ?? IDP)
    .setSubject(o.sub ?? 'U-DEMO')
    .setAudience(o.aud ?? srv.url)
    .setJti(o.jti ?? randomUUID())
    .setIssuedAt(o.iat ?? now)
    .setExpirationTime(o.exp ?? now + 300)
    .sign(key.privateKey);
}

function exchange(
  assertion: string,
  params: Record<string, string> = {},
  client: AddedClient = app,
  headers: Record<string, string> = {},
): Promise<TokenResponse> {
  return tokenRequest(
    srv.url,
    { grant_type: JWT_BEARER, assertion, ...params },
    { authorization: basicAuth(client.clientId, client.clientSecret!), ...headers },
  );
}

function assertRefused(res: TokenResponse, error: string, description: RegExp): void {
  assert.equal(res.status, error === 'invalid_client' ? 401 : 400, JSON.stringify(res.body));
  assert.equal(res.body.error, error, JSON.stringify(res.body));
  assert.match(String(res.body.error_description), description);
  assert.equal(res.body.access_token, undefined);
}

async function authStatus(accessToken: string, scheme = 'Bearer', extraHeaders: Record<string, string> = {}) {
  const res = await modernPost(
    srv.mcpUrl,
    'tools/call',
    { name: 'auth_status', arguments: {} },
    { headers: { authorization: `${scheme} ${accessToken}`, ...extraHeaders } },
  );
  return res;
}

describe('ID-JAG: metadata', () => {
  it('advertises the jwt-bearer grant and the id-jag grant profile', async () => {
    const meta = await (await fetch(`${srv.url}/.well-known/oauth-authorization-server`)).json();
    assert.ok(meta.grant_types_supported.includes(JWT_BEARER));
    assert.deepEqual(meta.authorization_grant_profiles_supported, [
      'urn:ietf:params:oauth:grant-profile:id-jag',
    ]);
  });

  it('a server trusting no IdP neither advertises the grant nor accepts it', async () => {
    const plain = await startTestServer();
    try {
      const meta = await (await fetch(`${plain.url}/.well-known/oauth-authorization-server`)).json();
      assert.ok(!meta.grant_types_supported.includes(JWT_BEARER));
      assert.equal(meta.authorization_grant_profiles_supported, undefined);
    } finally {
      await plain.close();
    }
  });
});

describe('ID-JAG: the operator commands', () => {
  it('clients add --enterprise takes a chosen client id (to name it in the IdP setting first), once', async () => {
    const made = await cli([
      'clients',
      'add',
      'Named',
      '--enterprise',
      '--client-id',
      'acme-ai.prod',
      '--json',
    ]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(JSON.parse(made.stdout).clientId, 'acme-ai.prod');
    assert.deepEqual(JSON.parse(made.stdout).grantTypes, [JWT_BEARER]);
    for (const [id, why] of [
      ['acme-ai.prod', /already exists/],
      ['sekisho-quick-login', /reserved/],
      ['https://app.example/client.json', /--client-id must be/],
      ['a', /--client-id must be/],
    ] as const) {
      const run = await cli(['clients', 'add', 'Again', '--enterprise', '--client-id', id]);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, why);
    }
  });

  it('users link refuses an identity linked to another account, and unlink removes it', async () => {
    const run = await cli(['users', 'link', 'admin', '--issuer', IDP, '--subject', 'U-DEMO']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /linked to another account/);
    assert.equal((await cli(['users', 'link', 'demo', '--issuer', IDP, '--subject', 'U-TEMP'])).code, 0);
    assert.equal((await cli(['users', 'unlink', '--issuer', IDP, '--subject', 'U-TEMP'])).code, 0);
    assert.notEqual((await cli(['users', 'unlink', '--issuer', IDP, '--subject', 'U-TEMP'])).code, 0);
    assertRefused(
      await exchange(await idJag({ sub: 'U-TEMP' })),
      'invalid_grant',
      /no local account is linked/,
    );
    assert.notEqual((await cli(['users', 'link', 'demo', '--issuer', IDP])).code, 0, '--subject is required');
  });
});

describe('ID-JAG: the grant', () => {
  it('a linked user gets an audience-bound token, no refresh token, and the tools see the user', async () => {
    const res = await exchange(await idJag());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(res.body.scope, 'mcp:tools mcp:data');
    const claims = decodeJwt(res.body.access_token);
    assert.equal(claims.aud, srv.mcpUrl);
    assert.equal(claims.iss, srv.url);
    assert.equal(claims.client_id, app.clientId);
    assert.equal(typeof claims.gid, 'string');
    const call = await authStatus(res.body.access_token);
    assert.equal(call.status, 200);
    const content = call.body?.result?.structuredContent as { kind?: string; user?: string };
    assert.equal(content.kind, 'user');
    assert.equal(content.user, 'demo');
  });

  it('the grant shows in `sekisho grants list` and revoking it ends the token', async () => {
    const res = await exchange(await idJag());
    const gid = decodeJwt(res.body.access_token).gid as string;
    const list = await cli(['grants', 'list', '--json']);
    assert.ok(JSON.parse(list.stdout).some((g: { grantId: string }) => g.grantId === gid));
    assert.equal((await cli(['grants', 'revoke', gid])).code, 0);
    const call = await authStatus(res.body.access_token);
    assert.equal(call.status, 401);
  });

  it('scopes: requested ∩ asserted, then cut to the role; no scope anywhere → the basic set', async () => {
    const narrowed = await exchange(await idJag(), { scope: 'mcp:tools' });
    assert.equal(narrowed.body.scope, 'mcp:tools');
    // demo is a user: mcp:admin is asserted but the role cannot hold it, so it is withheld silently.
    const roleCut = await exchange(await idJag({ scope: 'mcp:tools mcp:admin' }));
    assert.equal(roleCut.body.scope, 'mcp:tools');
    const admin = await exchange(await idJag({ sub: 'U-ADMIN', scope: 'mcp:tools mcp:admin' }));
    assert.equal(admin.body.scope, 'mcp:tools mcp:admin');
    const unscoped = await exchange(await idJag({ scope: null }));
    assert.equal(unscoped.status, 200, JSON.stringify(unscoped.body));
    assert.equal(unscoped.body.scope, 'mcp:tools mcp:data');
  });

  it('asking for more than the IdP asserted is invalid_scope; nothing the role may hold too', async () => {
    assertRefused(
      await exchange(await idJag({ scope: 'mcp:tools' }), { scope: 'mcp:tools mcp:data' }),
      'invalid_scope',
      /did not grant mcp:data/,
    );
    assertRefused(await exchange(await idJag({ scope: 'mcp:admin' })), 'invalid_scope', /role/);
  });

  it('binds the token to a DPoP key when the request carries a proof', async () => {
    const key = await es256KeyPair();
    const proof = await dpopProof(key, { htm: 'POST', htu: `${srv.url}/oauth/token` });
    const res = await exchange(await idJag(), {}, app, { dpop: proof });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'DPoP');
    assert.equal((decodeJwt(res.body.access_token).cnf as { jkt?: string }).jkt, await thumbprint(key));
    assert.equal((await authStatus(res.body.access_token)).status, 401, 'a bound token needs its proof');
  });

  it('JIT: an unknown subject of a jit IdP gets one local user, linked, on first use', async () => {
    const sub = `new-hire-${randomUUID()}`;
    const jag = (jti?: string) =>
      idJag({
        iss: JIT_IDP,
        sub,
        key: jitKey,
        clientId: jitOnlyApp.clientId,
        ...(jti ? { jti } : {}),
        extra: { name: 'New Hire', email: 'new@acme.example', email_verified: true },
      });
    const [first, second] = await Promise.all([
      exchange(await jag(), {}, jitOnlyApp),
      exchange(await jag(), {}, jitOnlyApp),
    ]);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(decodeJwt(first.body.access_token).sub, decodeJwt(second.body.access_token).sub);
    const users = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as {
      username: string;
      role: string;
      name: string;
    }[];
    const made = users.filter((u) => u.username === jitUsername(JIT_IDP, sub));
    assert.equal(made.length, 1);
    assert.equal(made[0]!.role, 'user');
    assert.equal(made[0]!.name, 'New Hire');
    const links = JSON.parse((await cli(['users', 'links', made[0]!.username, '--json'])).stdout);
    assert.deepEqual(
      links.map((l: { issuer: string; subject: string }) => [l.issuer, l.subject]),
      [[JIT_IDP, sub]],
    );
  });

  it('the official v2 SDK client gets in with CrossAppAccessProvider', async () => {
    let asked: { authorizationServerUrl: string; resourceUrl: string } | undefined;
    const conn = await connectV2(srv.mcpUrl, {
      mode: 'modern',
      authProvider: new CrossAppAccessProvider({
        clientId: app.clientId,
        clientSecret: app.clientSecret!,
        expectedIssuer: srv.url,
        assertion: async (ctx) => {
          asked = { authorizationServerUrl: ctx.authorizationServerUrl, resourceUrl: ctx.resourceUrl };
          // Stands in for the RFC 8693 exchange at the IdP (requestJwtAuthorizationGrant).
          return idJag({ aud: ctx.authorizationServerUrl, resource: ctx.resourceUrl });
        },
      }),
    });
    try {
      const result = await conn.client.callTool({ name: 'auth_status', arguments: {} });
      assert.equal((result.structuredContent as { user?: string }).user, 'demo');
    } finally {
      await conn.close();
    }
    assert.equal(asked?.resourceUrl, srv.mcpUrl);
    assert.equal(new URL(asked!.authorizationServerUrl).origin, new URL(srv.url).origin);
  });
});

describe('ID-JAG: records and links', () => {
  it('the audit log holds each issued grant (via id_jag) and each refusal, never the assertion', async () => {
    const jag = await idJag();
    const ok = await exchange(jag);
    const replay = await exchange(jag);
    assert.equal(replay.status, 400);
    const gid = decodeJwt(ok.body.access_token).gid as string;
    const records = await srv.sekisho.storage.listAudit({ clientId: app.clientId, limit: 200 });
    const issued = records.find((r) => r.grantId === gid);
    assert.equal(issued?.type, 'grant.issued');
    assert.equal(issued?.details.via, 'id_jag');
    assert.equal(issued?.details.idp, IDP);
    const refused = records.find(
      (r) => r.outcome === 'failure' && String(r.details.reason).includes('already used'),
    );
    assert.equal(refused?.type, 'grant.issued');
    assert.ok(!JSON.stringify(records).includes(jag), 'the assertion is never recorded');
  });

  it('an existing link keeps its stored claims (an upstream sign-in’s, which its rules re-judge)', async () => {
    const users = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as {
      id: string;
      username: string;
    }[];
    const demo = users.find((u) => u.username === 'demo')!;
    const claims = { via: 'upstream', groups: ['staff'], email: 'demo@acme.example' };
    await srv.sekisho.storage.linkExternalIdentity({
      issuer: IDP,
      subject: 'U-FEDERATED',
      userId: demo.id,
      claims,
    });
    const res = await exchange(await idJag({ sub: 'U-FEDERATED', extra: { name: 'Other Name' } }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const link = await srv.sekisho.storage.findExternalIdentity(IDP, 'U-FEDERATED');
    assert.deepEqual(link?.claims, claims);
  });

  it('an enterprise client authenticating with private_key_jwt', async () => {
    const res = await tokenRequest(srv.url, {
      grant_type: JWT_BEARER,
      assertion: await idJag({ clientId: SIGNED_APP }),
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await clientAssertion(signedAppKey, SIGNED_APP, `${srv.url}/oauth/token`),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(decodeJwt(res.body.access_token).client_id, SIGNED_APP);
    const foreignKey = await es256KeyPair();
    const forged = await tokenRequest(srv.url, {
      grant_type: JWT_BEARER,
      assertion: await idJag({ clientId: SIGNED_APP }),
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await clientAssertion(foreignKey, SIGNED_APP, `${srv.url}/oauth/token`),
    });
    assertRefused(forged, 'invalid_client', /./);
  });
});

describe('ID-JAG: refusals', () => {
  it('wrong typ (an ID token or a plain JWT is no grant)', async () => {
    assertRefused(
      await exchange(await idJag({ typ: 'JWT' })),
      'invalid_grant',
      /typ must be oauth-id-jag\+jwt/,
    );
    assertRefused(await exchange(await idJag({ typ: 'at+jwt' })), 'invalid_grant', /typ/);
  });

  it('an issuer that is not trusted, even one differing by a trailing slash', async () => {
    assertRefused(
      await exchange(await idJag({ iss: 'https://evil.idp.example' })),
      'invalid_grant',
      /trusted identity provider/,
    );
    assertRefused(
      await exchange(await idJag({ iss: `${IDP}/` })),
      'invalid_grant',
      /trusted identity provider/,
    );
  });

  it('an IdP whose keys cannot be fetched: a clear refusal, no 500', async () => {
    assertRefused(
      await exchange(await idJag({ iss: DOWN_IDP })),
      'invalid_grant',
      /keys could not be fetched/,
    );
  });

  it('a trusted issuer name on an assertion signed with another key', async () => {
    const stranger = await rsaKey('acme-1');
    assertRefused(await exchange(await idJag({ key: stranger })), 'invalid_grant', /signature/);
  });

  it('wrong aud (another authorization server, or the MCP URL)', async () => {
    assertRefused(
      await exchange(await idJag({ aud: 'https://other-as.example' })),
      'invalid_grant',
      /audience/,
    );
    assertRefused(await exchange(await idJag({ aud: srv.mcpUrl })), 'invalid_grant', /audience/);
  });

  it('expired, issued too long ago, or living too long', async () => {
    const now = Math.floor(Date.now() / 1000);
    assertRefused(
      await exchange(await idJag({ iat: now - 400, exp: now - 100 })),
      'invalid_grant',
      /expired/,
    );
    assertRefused(await exchange(await idJag({ iat: now - 3600, exp: now + 60 })), 'invalid_grant', /iat/);
    assertRefused(await exchange(await idJag({ exp: now + 3600 })), 'invalid_grant', /lives too long/);
  });

  it('a replayed jti (the second use of one assertion), also when sent at once', async () => {
    const jag = await idJag();
    assert.equal((await exchange(jag)).status, 200);
    assertRefused(await exchange(jag), 'invalid_grant', /already used/);
    const racing = await idJag();
    const answers = await Promise.all([exchange(racing), exchange(racing), exchange(racing)]);
    assert.equal(answers.filter((a) => a.status === 200).length, 1);
  });

  it('a refused request does not use up the assertion', async () => {
    const jag = await idJag({ scope: 'mcp:tools' });
    assertRefused(await exchange(jag, { scope: 'mcp:data' }), 'invalid_scope', /did not grant/);
    assert.equal((await exchange(jag)).status, 200);
  });

  it('client_id claim ≠ the authenticated client', async () => {
    assertRefused(
      await exchange(await idJag({ clientId: otherApp.clientId })),
      'invalid_grant',
      /another client/,
    );
  });

  it('a client the IdP entry does not list, and a wrong client secret', async () => {
    assertRefused(
      await exchange(await idJag({ clientId: jitOnlyApp.clientId }), {}, jitOnlyApp),
      'unauthorized_client',
      /may not present assertions/,
    );
    assertRefused(
      await exchange(await idJag(), {}, { clientId: app.clientId, clientSecret: 'wrong' }),
      'invalid_client',
      /./,
    );
  });

  it('an unknown subject under the linked (no-provision) rule', async () => {
    assertRefused(
      await exchange(await idJag({ sub: 'U-NOBODY' })),
      'invalid_grant',
      /no local account is linked/,
    );
    const users = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as { username: string }[];
    assert.ok(!users.some((u) => u.username === jitUsername(IDP, 'U-NOBODY')));
  });

  it('alg none and HS256 (keyed with the IdP’s public key) before any key is used', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: IDP,
      sub: 'U-DEMO',
      aud: srv.url,
      client_id: app.clientId,
      jti: randomUUID(),
      iat: now,
      exp: now + 300,
    };
    assertRefused(
      await exchange(rawJws({ alg: 'none', typ: 'oauth-id-jag+jwt' }, claims)),
      'invalid_grant',
      /signed with one of/,
    );
    const hmacKey = new TextEncoder().encode(JSON.stringify(idpKey.publicJwk));
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'oauth-id-jag+jwt' })
      .sign(hmacKey);
    assertRefused(await exchange(hs), 'invalid_grant', /signed with one of/);
  });

  it('wrong resource: in the assertion (invalid_grant) or in the request (invalid_target)', async () => {
    assertRefused(
      await exchange(await idJag({ resource: 'https://other.example/mcp' })),
      'invalid_grant',
      /another resource/,
    );
    assertRefused(
      await exchange(await idJag(), { resource: 'https://other.example/mcp' }),
      'invalid_target',
      /unknown resource/,
    );
    const ok = await exchange(await idJag({ resource: null }), { resource: srv.mcpUrl });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('malformed input: no assertion, garbage, an oversized one', async () => {
    assertRefused(
      await tokenRequest(
        srv.url,
        { grant_type: JWT_BEARER },
        { authorization: basicAuth(app.clientId, app.clientSecret!) },
      ),
      'invalid_request',
      /assertion/,
    );
    assertRefused(await exchange('not-a-jwt'), 'invalid_grant', /not a signed JWT/);
    assertRefused(await exchange('a.b.c'), 'invalid_grant', /not a signed JWT/);
    assertRefused(await exchange(`${'a'.repeat(20_000)}.b.c`), 'invalid_grant', /not a signed JWT/);
  });

  it('a client not registered for the grant (a machine client) cannot use it', async () => {
    const machine = await cli(['clients', 'add', 'Robot', '--machine', '--role', 'user', '--json']);
    const robot = JSON.parse(machine.stdout) as AddedClient;
    const res = await exchange(await idJag({ clientId: robot.clientId }), {}, robot);
    assert.equal(res.status, 400);
    assert.ok(
      ['unauthorized_client', 'invalid_request'].includes(String(res.body.error)),
      JSON.stringify(res.body),
    );
  });
});
