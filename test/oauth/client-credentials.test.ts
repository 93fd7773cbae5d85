/**
 * Client credentials (ext-auth "OAuth client credentials") end to end over real HTTP: an operator
 * registers machine clients with `sekisho clients add --machine --role …`; they get audience-bound
 * tokens with client_secret_basic or private_key_jwt (the official v2 SDK providers for both), and
 * the tools see a service identity with the registered role. Refused: a wrong secret, a foreign or
 * replayed assertion, a missing or foreign resource, a self-registered client asking for the grant,
 * a removed client's or a revoked token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientCredentialsProvider, PrivateKeyJwtProvider } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { connectV2 } from '../helpers/clients.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { tokenRequest } from '../helpers/oauth.ts';
import {
  type AddedClient,
  addClient,
  basicAuth,
  CLIENT_ASSERTION_TYPE,
  clientAssertion,
  es256KeyPair,
  type KeyPair,
  sekishoCli,
} from '../helpers/operator-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let userService: AddedClient;
let adminService: AddedClient;
let jwtService: AddedClient;
let key: KeyPair;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_ANONYMOUS: '0' });
  userService = await addClient(srv, 'Nightly report', ['--machine', '--role', 'user']);
  adminService = await addClient(srv, 'Ops robot', ['--machine', '--role', 'admin']);
  key = await es256KeyPair();
  const { writeFileSync } = await import('node:fs');
  const jwksFile = `${srv.dataDir}/robot-jwks.json`;
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  jwtService = await addClient(srv, 'Signed robot', [
    '--machine',
    '--role',
    'user',
    '--auth',
    'private_key_jwt',
    '--jwks',
    jwksFile,
  ]);
});
after(() => srv?.close());

const token = () => `${srv.url}/oauth/token`;
function secretGrant(client: AddedClient, params: Record<string, string>, secret = client.clientSecret!) {
  return tokenRequest(
    srv.url,
    { grant_type: 'client_credentials', ...params },
    { authorization: basicAuth(client.clientId, secret) },
  );
}
async function callTool(accessToken: string, name: string, args: Record<string, unknown> = {}) {
  return modernPost(
    srv.mcpUrl,
    'tools/call',
    { name, arguments: args },
    { headers: { authorization: `Bearer ${accessToken}` } },
  );
}

describe('client credentials: metadata and registration', () => {
  it('advertises the grant and both confidential authentication methods', async () => {
    const meta = await (await fetch(`${srv.url}/.well-known/oauth-authorization-server`)).json();
    assert.ok(meta.grant_types_supported.includes('client_credentials'));
    assert.ok(meta.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(meta.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
    assert.ok(meta.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
  });

  it('the CLI prints the secret once, stores only a digest, and lists the client without expiry', async () => {
    assert.match(userService.clientId, /^svc_/);
    assert.ok(userService.clientSecret && userService.clientSecret.length >= 43);
    const row = await srv.sekisho.storage.find('Client', userService.clientId);
    assert.ok(row);
    assert.notEqual(row.client_secret, userService.clientSecret);
    assert.match(String(row.client_secret), /^sha256:/);
    const listed = await sekishoCli(srv, ['clients', 'list', '--json']);
    const entry = (JSON.parse(listed.stdout) as { clientId: string; expiresAt?: number }[]).find(
      (c) => c.clientId === userService.clientId,
    );
    assert.ok(entry);
    assert.equal(entry.expiresAt ?? null, null);
  });

  it('the CLI refuses incomplete or unsafe registrations', async () => {
    const cases: [string[], RegExp][] = [
      [['--machine'], /--machine needs --role/],
      [['--machine', '--role', 'root'], /role must be/],
      [[], /say what the client is for/],
      [['--role', 'user'], /say what the client is for/],
      [['--machine', '--role', 'user', '--auth', 'private_key_jwt'], /exactly one of --jwks/],
      [
        ['--machine', '--role', 'user', '--auth', 'private_key_jwt', '--jwks-uri', 'http://x.example/j'],
        /https/,
      ],
      [['--machine', '--role', 'user', '--auth', 'client_secret_post'], /--auth must be/],
    ];
    for (const [flags, message] of cases) {
      const run = await sekishoCli(srv, ['clients', 'add', 'x', ...flags]);
      assert.equal(run.code, 2, flags.join(' '));
      assert.match(run.stderr, message);
    }
  });

  it('a dynamically registered client cannot give itself the grant', async () => {
    const res = await fetch(`${srv.url}/oauth/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'sneaky',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description, /operator/);
  });
});

describe('client credentials: tokens and the service identity', () => {
  it('client_secret_basic: a JWT for /mcp, sub = client_id, no grant, no refresh token', async () => {
    const res = await secretGrant(userService, { resource: srv.mcpUrl, scope: 'mcp:tools mcp:data' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(res.body.scope, 'mcp:tools mcp:data');
    const claims = decodeJwt(res.body.access_token);
    assert.equal(claims.aud, srv.mcpUrl);
    assert.equal(claims.sub, userService.clientId);
    assert.equal(claims.client_id, userService.clientId);
    assert.equal(claims.gid, undefined);

    const status = await callTool(res.body.access_token, 'auth_status');
    assert.equal(status.status, 200, status.text);
    const result = status.body?.result as { structuredContent?: Record<string, unknown> };
    assert.equal(result.structuredContent?.kind, 'service');
    assert.equal(result.structuredContent?.service, 'Nightly report');
    assert.equal(result.structuredContent?.role, 'user');
    assert.match(JSON.stringify(result), /service Nightly report \(client credentials, no user\)/);

    // A tool about "your" data says why it has nothing for a service.
    const profile = await callTool(res.body.access_token, 'user_profile');
    assert.equal((profile.body?.result as { isError?: boolean } | undefined)?.isError, true);
    assert.match(JSON.stringify(profile.body?.result), /a service \(client credentials\) has none/);
  });

  it('scopes: requested ∩ the role; a request naming none gets the basic set the role allows', async () => {
    const asked = await secretGrant(userService, { resource: srv.mcpUrl, scope: 'mcp:tools mcp:admin' });
    assert.equal(asked.status, 200);
    assert.equal(asked.body.scope, 'mcp:tools');
    const none = await secretGrant(userService, { resource: srv.mcpUrl });
    assert.equal(none.status, 200);
    assert.equal(none.body.scope, 'mcp:tools mcp:data');
    const admin = await secretGrant(adminService, { resource: srv.mcpUrl, scope: 'mcp:admin' });
    assert.equal(admin.body.scope, 'mcp:admin');
    const panel = await callTool(admin.body.access_token, 'admin_panel', { action: 'user_stats' });
    assert.equal(panel.status, 200);
    assert.match(JSON.stringify(panel.body?.result), /Executed by: Ops robot \(service\)/);
    // The user-role service cannot reach the admin tool at all: a tool error, not a step-up loop.
    const denied = await callTool(asked.body.access_token, 'admin_panel', { action: 'user_stats' });
    assert.match(JSON.stringify(denied.body), /needs the admin role; you are signed in as a user service/);
  });

  it('private_key_jwt with a registered JWKS', async () => {
    const assertion = await clientAssertion(key, jwtService.clientId, token());
    const res = await tokenRequest(srv.url, {
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      resource: srv.mcpUrl,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(decodeJwt(res.body.access_token).sub, jwtService.clientId);
  });

  it('the official v2 SDK client gets in with ClientCredentialsProvider and PrivateKeyJwtProvider', async () => {
    const basic = await connectV2(srv.mcpUrl, {
      mode: 'modern',
      authProvider: new ClientCredentialsProvider({
        clientId: userService.clientId,
        clientSecret: userService.clientSecret!,
        scope: 'mcp:tools',
        expectedIssuer: srv.url,
      }),
    });
    try {
      const result = await basic.client.callTool({ name: 'auth_status', arguments: {} });
      assert.equal((result.structuredContent as { kind?: string }).kind, 'service');
    } finally {
      await basic.close();
    }
    const jwt = await connectV2(srv.mcpUrl, {
      mode: 'modern',
      authProvider: new PrivateKeyJwtProvider({
        clientId: jwtService.clientId,
        privateKey: { ...key.privateJwk },
        algorithm: 'ES256',
        scope: 'mcp:tools',
        expectedIssuer: srv.url,
      }),
    });
    try {
      const result = await jwt.client.callTool({ name: 'auth_status', arguments: {} });
      assert.equal((result.structuredContent as { service?: string }).service, 'Signed robot');
    } finally {
      await jwt.close();
    }
  });
});

describe('client credentials: refusals', () => {
  it('a wrong secret is invalid_client (401)', async () => {
    const res = await secretGrant(userService, { resource: srv.mcpUrl }, 'not-the-secret');
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
  });

  it('no resource, or a resource this server does not protect, is invalid_target', async () => {
    const missing = await secretGrant(userService, {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_target');
    assert.match(missing.body.error_description, /required/);
    const foreign = await secretGrant(userService, { resource: 'https://other.example/mcp' });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error, 'invalid_target');
  });

  it('assertions signed by another key, for another audience, expired or replayed are invalid_client', async () => {
    const other = await es256KeyPair(String(key.publicJwk.kid));
    const send = (assertion: string) =>
      tokenRequest(srv.url, {
        grant_type: 'client_credentials',
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
        resource: srv.mcpUrl,
      });
    for (const assertion of [
      await clientAssertion(other, jwtService.clientId, token()),
      await clientAssertion(key, jwtService.clientId, 'https://elsewhere.example/token'),
      await clientAssertion(key, jwtService.clientId, token(), { exp: Math.floor(Date.now() / 1000) - 120 }),
    ]) {
      const res = await send(assertion);
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body.error, 'invalid_client');
    }
    const once = await clientAssertion(key, jwtService.clientId, token());
    assert.equal((await send(once)).status, 200);
    const replayed = await send(once);
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.error, 'invalid_client');
  });

  it('a secret client cannot authenticate with an assertion, nor the other way round', async () => {
    const res = await secretGrant(jwtService, { resource: srv.mcpUrl }, 'whatever');
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
  });

  it('removing the client stops its tokens at /mcp at once', async () => {
    const victim = await addClient(srv, 'Short-lived robot', ['--machine', '--role', 'user']);
    const issued = await secretGrant(victim, { resource: srv.mcpUrl });
    assert.equal((await callTool(issued.body.access_token, 'auth_status')).status, 200);
    const removed = await sekishoCli(srv, ['clients', 'remove', victim.clientId]);
    assert.equal(removed.code, 0, removed.stderr);
    const afterRemove = await callTool(issued.body.access_token, 'auth_status');
    assert.equal(afterRemove.status, 401);
    assert.match(afterRemove.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.equal((await secretGrant(victim, { resource: srv.mcpUrl })).status, 401);
  });
});
