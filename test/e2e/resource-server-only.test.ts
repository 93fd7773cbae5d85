/**
 * Issue #11, resource-server-only mode, end to end with a real foreign authorization server
 * (oidc-provider on its own loopback port: test/helpers/foreign-provider.ts). Sekisho runs with
 * SEKISHO_EXTERNAL_ISSUER and nothing else of its own for sign-in. The official v2 client
 * (@modelcontextprotocol/client 2.4.0) gets only Sekisho's URL and on its own: 401 → Sekisho's PRM
 * → the foreign server's metadata (RFC 8414 missing there, OpenID discovery found) → dynamic
 * registration at the foreign server → authorize with `resource` = Sekisho's /mcp → sign-in at the
 * foreign server → JWT access token → Sekisho's tools. Then: a token for another audience or from
 * another issuer is refused (401), and an opaque token revoked at the foreign server is refused on
 * the next request through introspection.
 *
 * No browser is needed: the foreign sign-in form is submitted by browserless-login.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { type ForeignProvider, startForeignProvider } from '../helpers/foreign-provider.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { DEFAULT_REDIRECT, pkce } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  connect,
  type Exchange,
  finishAuth,
  isUnauthorized,
  type Session,
  text,
} from './support/mcp-clients.ts';
import { MemoryOAuthProvider } from './support/oauth-provider.ts';

/** The external server knows Sekisho's scopes, as an operator would define them there. */
const MCP_SCOPES = ['mcp:tools', 'mcp:data', 'mcp:admin'];

const USERS = [
  {
    username: 'alice',
    password: 'alice-pw',
    name: 'Alice Foreign',
    email: 'alice@corp.example',
    groups: ['staff'],
  },
  {
    username: 'root',
    password: 'root-pw',
    name: 'Root Foreign',
    email: 'root@corp.example',
    groups: ['mcp-admins'],
  },
];

/** The official client's whole flow against Sekisho, signing in at the foreign provider. */
async function signInWithClient(
  srv: TestServer,
  idp: ForeignProvider,
  user: { username: string; password: string },
  log: Exchange[] = [],
  /** A client registered at the foreign server by its operator (no dynamic registration). */
  preRegistered?: string,
): Promise<{ session: Session; provider: MemoryOAuthProvider }> {
  const provider = new MemoryOAuthProvider({ redirectUrl: DEFAULT_REDIRECT });
  if (preRegistered) provider.saveClientInformation({ client_id: preRegistered });
  await assert.rejects(connect('v2-modern', srv.mcpUrl, provider, log), (e: unknown) => isUnauthorized(e));
  const authorize = provider.lastAuthorizationUrl();
  assert.equal(authorize.origin, idp.origin, 'the client is sent to the foreign authorization server');
  assert.equal(authorize.searchParams.get('resource'), srv.mcpUrl);
  const { callback } = await browserlessLogin(authorize, user);
  await finishAuth('v2-modern', srv.mcpUrl, provider, callback, log);
  return { session: await connect('v2-modern', srv.mcpUrl, provider, log), provider };
}

/** A token from `idp` for `resource`, by hand: registration, PKCE, sign-in, code exchange. */
async function foreignToken(idp: ForeignProvider, resource: string, user = USERS[0]!): Promise<string> {
  const meta = await (await fetch(idp.discoveryUrl)).json();
  const reg = await fetch(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [DEFAULT_REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }),
  });
  assert.equal(reg.status, 201, await reg.clone().text());
  const { client_id: clientId } = await reg.json();
  const { verifier, challenge } = pkce();
  const url = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: DEFAULT_REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'openid mcp:tools mcp:data',
    resource,
  })) {
    url.searchParams.set(k, v);
  }
  const { callback } = await browserlessLogin(url, user);
  const code = callback.searchParams.get('code');
  assert.ok(code, `no code: ${callback.search}`);
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: DEFAULT_REDIRECT,
      code_verifier: verifier,
      client_id: clientId,
      resource,
    }).toString(),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.access_token as string;
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('resource-server-only mode with a foreign authorization server (JWT access tokens)', () => {
  let idp: ForeignProvider;
  let other: ForeignProvider;
  let srv: TestServer;

  before(async () => {
    idp = await startForeignProvider({
      users: USERS,
      issuerPath: '/realms/corp',
      extraScopes: MCP_SCOPES,
      // What the foreign server may grant for Sekisho's resource; a token gets what was asked of it.
      resourceScopes: () => MCP_SCOPES.join(' '),
    });
    other = await startForeignProvider({ users: USERS, extraScopes: MCP_SCOPES });
    srv = await startTestServer({
      SEKISHO_EXTERNAL_ISSUER: idp.issuer,
      SEKISHO_EXTERNAL_ROLE_CLAIM: 'groups',
      SEKISHO_EXTERNAL_ADMIN_VALUES: 'mcp-admins',
    });
  });
  after(async () => {
    await srv?.close();
    await idp?.close();
    await other?.close();
  });

  it('Sekisho serves PRM naming the foreign issuer and no authorization server of its own', async () => {
    const prm = await (await fetch(`${srv.url}/.well-known/oauth-protected-resource/mcp`)).json();
    assert.deepEqual(prm.authorization_servers, [idp.issuer]);
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
      '/oauth/authorize',
      '/oauth/register',
      '/oauth/token',
      '/account',
    ]) {
      assert.equal((await fetch(`${srv.url}${path}`, { redirect: 'manual' })).status, 404, path);
    }
  });

  it('the official v2 client registers and signs in at the foreign server, then uses Sekisho’s tools', async () => {
    const log: Exchange[] = [];
    const { session, provider } = await signInWithClient(srv, idp, USERS[0]!, log);
    try {
      // Discovery went where the PRM pointed: Sekisho's PRM, then the foreign server's documents.
      const urls = log.map((e) => e.url);
      assert.ok(urls.some((u) => u.startsWith(`${srv.url}/.well-known/oauth-protected-resource`)));
      assert.ok(
        urls.some((u) => u.startsWith(`${idp.origin}/.well-known/`)),
        'foreign metadata was read',
      );
      assert.ok(!urls.some((u) => u.startsWith(`${srv.url}/oauth/`)), 'nothing was asked of Sekisho’s AS');
      const token = provider.currentTokens!.access_token;
      const claims = decodeJwt(token);
      assert.equal(claims.iss, idp.issuer);
      assert.equal(claims.aud, srv.mcpUrl);

      const tools = await session.listTools();
      assert.ok(tools.includes('user_profile') && tools.includes('protected_data'), tools.join());
      assert.ok(!tools.includes('admin_panel'), 'alice is not in the admin group');
      const profile = await session.callTool('user_profile');
      assert.equal(profile.isError, undefined, text(profile));
      // The foreign access token carries sub, email and groups (no name): the e-mail stands in.
      assert.deepEqual(profile.structuredContent, {
        id: idp.subjectOf('alice'),
        username: 'alice@corp.example',
        name: 'alice@corp.example',
        email: 'alice@corp.example',
        role: 'user',
      });
      const data = await session.callTool('protected_data');
      assert.notEqual(data.isError, true, text(data));
      assert.equal(await srv.sekisho.identity.findByUsername('alice'), undefined, 'no local account');
    } finally {
      await session.close();
    }
  });

  it('maps the foreign group to the admin role; the client steps up to mcp:admin at the foreign server', async () => {
    // oidc-provider (like many servers) holds a client to the scopes it registered with, and MCP
    // clients register with the scopes of the first challenge — so a dynamically registered client
    // could never step up there (docs/identity.md). Here the operator registered the client with
    // every MCP scope, as one does for servers without open registration.
    const clientId = `pre-registered-${randomUUID()}`;
    idp.addClient({
      client_id: clientId,
      redirect_uris: [DEFAULT_REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: `openid offline_access ${MCP_SCOPES.join(' ')}`,
    });
    const log: Exchange[] = [];
    const { session, provider } = await signInWithClient(srv, idp, USERS[1]!, log, clientId);
    try {
      assert.ok(!log.some((e) => e.url.includes('/reg')), 'no dynamic registration');
      assert.ok((await session.listTools()).includes('admin_panel'));
      const status = await session.callTool('auth_status');
      assert.equal(status.structuredContent?.role, 'admin');
      const granted = String(decodeJwt(provider.currentTokens!.access_token).scope ?? '').split(' ');
      assert.ok(!granted.includes('mcp:admin'), `the first token has the basic scopes, got ${granted}`);

      // 403 insufficient_scope from Sekisho → the client authorizes again at the foreign server.
      const before = provider.authorizationUrls.length;
      await assert.rejects(session.callTool('admin_panel', { action: 'user_stats' }), (e) =>
        isUnauthorized(e),
      );
      const challenge = log.findLast((e) => e.status === 403)?.wwwAuthenticate ?? '';
      assert.match(challenge, /^Bearer error="insufficient_scope", .*scope="mcp:admin"/);
      assert.equal(provider.authorizationUrls.length, before + 1);
      const stepUp = provider.lastAuthorizationUrl();
      assert.equal(stepUp.origin, idp.origin);
      assert.ok(stepUp.searchParams.get('scope')?.split(' ').includes('mcp:admin'));
      const { callback } = await browserlessLogin(stepUp, USERS[1]!);
      await finishAuth('v2-modern', srv.mcpUrl, provider, callback, log);
    } finally {
      await session.close();
    }
    const upgraded = await connect('v2-modern', srv.mcpUrl, provider, log);
    try {
      const scopes = String(decodeJwt(provider.currentTokens!.access_token).scope ?? '').split(' ');
      assert.ok(scopes.includes('mcp:admin'), `the new token has mcp:admin, got ${scopes}`);
      const stats = await upgraded.callTool('admin_panel', { action: 'user_stats' });
      // Reached the tool: in this mode it points at the server that owns users and sessions.
      assert.match(text(stats), /managed by the authorization server/);
    } finally {
      await upgraded.close();
    }
  });

  it('refuses a foreign token for another audience with 401', async () => {
    const token = await foreignToken(idp, 'https://elsewhere.example/mcp');
    assert.equal(decodeJwt(token).aud, 'https://elsewhere.example/mcp');
    const res = await modernPost(srv.mcpUrl, 'tools/list', {}, bearer(token));
    assert.equal(res.status, 401);
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /error="invalid_token".*not issued for this resource/,
    );
  });

  it('refuses a token from another issuer, even for Sekisho’s audience, with 401', async () => {
    const token = await foreignToken(other, srv.mcpUrl);
    assert.equal(decodeJwt(token).aud, srv.mcpUrl);
    const res = await modernPost(srv.mcpUrl, 'tools/list', {}, bearer(token));
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});

describe('resource-server-only mode: revocation at the foreign server through introspection', () => {
  let idp: ForeignProvider;
  let srv: TestServer;

  before(async () => {
    idp = await startForeignProvider({
      users: USERS,
      resourceTokenFormat: 'opaque',
      extraScopes: MCP_SCOPES,
    });
    srv = await startTestServer({
      SEKISHO_EXTERNAL_ISSUER: idp.issuer,
      SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: idp.adminClient.clientId,
      SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET: idp.adminClient.clientSecret,
      SEKISHO_EXTERNAL_INTROSPECTION_CACHE_SECONDS: '0',
    });
  });
  after(async () => {
    await srv?.close();
    await idp?.close();
  });

  it('the client’s opaque token works until it is revoked at the foreign server, then 401', async () => {
    const { session, provider } = await signInWithClient(srv, idp, USERS[0]!);
    try {
      const token = provider.currentTokens!.access_token;
      assert.equal(token.split('.').length, 1, 'an opaque token, checked by introspection');
      const before = await session.callTool('user_profile');
      assert.equal(before.structuredContent?.id, idp.subjectOf('alice'));
      assert.equal((await modernPost(srv.mcpUrl, 'tools/list', {}, bearer(token))).status, 200);

      await idp.revoke(token, 'access_token');
      const after = await modernPost(srv.mcpUrl, 'tools/list', {}, bearer(token));
      assert.equal(after.status, 401);
      assert.match(after.headers.get('www-authenticate') ?? '', /error="invalid_token".*not active/);
    } finally {
      await session.close();
    }
  });
});
