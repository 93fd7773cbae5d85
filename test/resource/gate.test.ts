/**
 * The resource server over real HTTP, in isolation from the authorization server: tokens are minted
 * here with a test key published through the KeyStore, grants are written straight to storage. The
 * end-to-end tests (test/e2e) do the same with real tokens from the real AS and real clients.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { mint, rawJws, type TestKeys, testKeys } from '../helpers/access-tokens.ts';
import { DEMO_ADMIN_TOOLS, DEMO_USER_TOOLS } from '../helpers/expected-tools.ts';
import { legacyPost, modernPost, rawPost } from '../helpers/mcp-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { trustTestKeys } from '../helpers/trusted-tokens.ts';

interface Fixture {
  srv: TestServer;
  keys: TestKeys;
  users: Record<string, string>;
  token(username: string, scope: string, extra?: Partial<Parameters<typeof mint>[1]>): Promise<string>;
}

async function fixture(env: Record<string, string>): Promise<Fixture> {
  const srv = await startTestServer({ SEKISHO_DEMO: '1', ...env });
  return { srv, ...(await trustTestKeys(srv, 'rs-test')) };
}

/** Claims an attacker would want: admin scope for the admin user, valid for ten minutes. */
const adminClaims = (iss: string, aud: string, sub: string) => ({
  iss,
  aud,
  sub,
  client_id: 'c',
  scope: 'mcp:admin',
  gid: 'g',
  exp: Math.floor(Date.now() / 1000) + 600,
});
const listTools = { id: 1, method: 'tools/list', params: {} };
const call = (name: string, args: Record<string, unknown> = {}) => ({
  id: 2,
  method: 'tools/call',
  params: { name, arguments: args },
});
const textOf = (res: { body?: { result?: Record<string, unknown> } }) =>
  ((res.body?.result?.content ?? []) as { text: string }[])[0]?.text;
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const toolNames = (body: unknown) =>
  ((body as { result: { tools: { name: string }[] } }).result.tools ?? []).map((t) => t.name).sort();

describe('protected resource metadata (RFC 9728)', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture({ SEKISHO_ANONYMOUS: '0' });
  });
  after(() => f.srv.close());

  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    it(`serves ${path} with the exact resource, issuer and basic scopes, readable cross-origin`, async () => {
      const res = await fetch(`${f.srv.url}${path}`, { headers: { origin: 'https://app.example' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(await res.json(), {
        resource: `${f.srv.url}/mcp`,
        authorization_servers: [f.srv.url],
        scopes_supported: ['mcp:tools', 'mcp:data'],
        bearer_methods_supported: ['header'],
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'PS256', 'RS256'],
        dpop_bound_access_tokens_required: false,
        resource_name: 'Sekisho MCP server',
      });
      const pre = await fetch(`${f.srv.url}${path}`, { method: 'OPTIONS' });
      assert.equal(pre.status, 204);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /GET/);
    });
  }
});

describe('the /mcp gate, anonymous access off', () => {
  let f: Fixture;
  let url: string;
  let prm: string;
  before(async () => {
    f = await fixture({ SEKISHO_ANONYMOUS: '0' });
    url = f.srv.mcpUrl;
    prm = `${f.srv.url}/.well-known/oauth-protected-resource/mcp`;
  });
  after(() => f.srv.close());

  it('answers a request without credentials 401 with resource_metadata and the basic scopes, no error code', async () => {
    const res = await legacyPost(url, listTools);
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer scope="mcp:tools mcp:data", resource_metadata="${prm}"`,
    );
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('answers GET and DELETE without credentials 401 too', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(url, { method, headers: { accept: 'text/event-stream' } });
      assert.equal(res.status, 401, method);
    }
  });

  it('serves the caller’s own tools with a valid token', async () => {
    const res = await legacyPost(url, listTools, bearer(await f.token('demo', 'mcp:tools mcp:data')));
    assert.equal(res.status, 200);
    assert.deepEqual(toolNames(res.body), [...DEMO_USER_TOOLS]);
    const admin = await legacyPost(url, listTools, bearer(await f.token('admin', 'mcp:tools')));
    assert.ok(toolNames(admin.body).includes('admin_panel'), 'admin sees admin_panel (step-up may follow)');
  });

  it('marks the per-user tools/list private and uncacheable on the wire (2026-07-28 caching)', async () => {
    const res = await modernPost(url, 'tools/list', {}, bearer(await f.token('admin', 'mcp:tools')));
    assert.equal(res.status, 200);
    assert.equal(res.body?.result?.cacheScope, 'private');
    assert.equal(res.body?.result?.ttlMs, 0);
  });

  it('passes the caller to the tools (modern era too)', async () => {
    const res = await modernPost(
      url,
      'tools/call',
      { name: 'hello_world', arguments: {} },
      bearer(await f.token('demo', 'mcp:tools')),
    );
    assert.equal(res.status, 200);
    assert.match(textOf(res) ?? '', /^Hello, Demo User! \(🔐 Authenticated\)/);
  });

  it('refuses access_token in the query string, even with a valid token', async () => {
    const token = await f.token('demo', 'mcp:tools');
    const res = await rawPost(
      `${url}?access_token=${token}`,
      JSON.stringify({ jsonrpc: '2.0', ...listTools }),
      {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
    );
    assert.equal(res.status, 400);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_request"/);
  });

  describe('bad bearer input → 401 invalid_token, never 500', () => {
    const cases: [string, () => Promise<string>][] = [
      ['Basic scheme', async () => 'Basic dXNlcjpwYXNz'],
      ['Bearer without a token', async () => 'Bearer'],
      ['Bearer with two tokens', async () => 'Bearer a b'],
      ['non-JWT garbage', async () => 'Bearer not-a-jwt'],
      ['characters outside b64token', async () => 'Bearer abc"def'],
      [
        'another audience',
        async () => `Bearer ${await f.token('demo', 'mcp:tools', { audience: 'https://other.example/mcp' })}`,
      ],
      [
        'another issuer',
        async () => `Bearer ${await f.token('demo', 'mcp:tools', { issuer: 'https://evil.example' })}`,
      ],
      ['expired', async () => `Bearer ${await f.token('demo', 'mcp:tools', { expiresIn: -120 })}`],
      [
        'not an access token (typ JWT)',
        async () => `Bearer ${await f.token('demo', 'mcp:tools', { typ: 'JWT' })}`,
      ],
      [
        'wrong signature',
        async () => {
          const forged = await testKeys(f.keys.kid);
          return `Bearer ${await mint(forged, { issuer: f.srv.url, audience: url, sub: f.users.demo!, gid: 'grant-demo-1' })}`;
        },
      ],
      [
        'alg none',
        async () => {
          const claims = adminClaims(f.srv.url, url, f.users.admin!);
          return `Bearer ${rawJws({ alg: 'none', typ: 'at+jwt' }, claims)}`;
        },
      ],
      [
        'HS256 signed with the public key',
        async () => {
          const claims = adminClaims(f.srv.url, url, f.users.admin!);
          const unsigned = rawJws({ alg: 'HS256', typ: 'at+jwt', kid: f.keys.kid }, claims).slice(0, -1);
          const sig = createHmac('sha256', JSON.stringify(f.keys.publicJwk))
            .update(unsigned)
            .digest('base64url');
          return `Bearer ${unsigned}.${sig}`;
        },
      ],
    ];
    for (const [name, header] of cases) {
      it(name, async () => {
        const res = await legacyPost(url, listTools, { headers: { authorization: await header() } });
        assert.equal(res.status, 401, res.text);
        assert.match(
          res.headers.get('www-authenticate') ?? '',
          /^Bearer error="invalid_token", error_description="[^"]+", scope="mcp:tools mcp:data", resource_metadata="/,
        );
        assert.equal((JSON.parse(res.text) as { error: string }).error, 'invalid_token');
      });
    }
  });

  it('refuses a token whose grant was revoked on its very next request', async () => {
    const token = await f.token('demo', 'mcp:tools');
    assert.equal((await legacyPost(url, listTools, bearer(token))).status, 200);
    await f.srv.sekisho.storage.destroy('Grant', decodeJwt(token).gid as string);
    const res = await legacyPost(url, listTools, bearer(token));
    assert.equal(res.status, 401);
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /error="invalid_token", error_description="The authorization behind this token was revoked/,
    );
  });

  it('refuses a token whose user was deleted', async () => {
    await f.srv.sekisho.identity.addUser({
      username: 'temp',
      password: 'a-long-enough-password-1',
      role: 'user',
    });
    f.users.temp = (await f.srv.sekisho.identity.findByUsername('temp'))!.id;
    const token = await f.token('temp', 'mcp:tools');
    assert.equal((await legacyPost(url, listTools, bearer(token))).status, 200);
    await f.srv.sekisho.storage.deleteUser(f.users.temp);
    const res = await legacyPost(url, listTools, bearer(token));
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /no longer exists/);
  });

  describe('scope checks (step-up) and roles', () => {
    it('403 insufficient_scope naming the scopes a tool needs', async () => {
      const res = await legacyPost(
        url,
        call('protected_data', { category: 'personal' }),
        bearer(await f.token('demo', 'mcp:tools')),
      );
      assert.equal(res.status, 403);
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer error="insufficient_scope", error_description="protected_data needs more access: authorize the scopes mcp:data.", scope="mcp:data", resource_metadata="${prm}"`,
      );
    });

    it('403 naming ALL scopes an argument-level requirement needs (protected_data admin)', async () => {
      const res = await legacyPost(
        url,
        call('protected_data', { category: 'admin' }),
        bearer(await f.token('admin', 'mcp:tools mcp:data')),
      );
      assert.equal(res.status, 403);
      assert.match(res.headers.get('www-authenticate') ?? '', /scope="mcp:data mcp:admin"/);
    });

    it('403 for admin_panel with an admin’s token lacking mcp:admin', async () => {
      const res = await modernPost(
        url,
        'tools/call',
        { name: 'admin_panel', arguments: { action: 'user_stats' } },
        bearer(await f.token('admin', 'mcp:tools mcp:data')),
      );
      assert.equal(res.status, 403);
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /error="insufficient_scope".*scope="mcp:admin"/,
      );
    });

    it('honours the scope hierarchy: mcp:admin alone covers mcp:data and mcp:tools', async () => {
      const token = await f.token('admin', 'mcp:admin');
      const res = await legacyPost(url, call('protected_data', { category: 'financial' }), bearer(token));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body?.result?.isError, undefined);
    });

    it('a role that can never use a tool gets a clear tool error, not a challenge (demo → admin_panel)', async () => {
      const token = await f.token('demo', 'mcp:tools mcp:data');
      const res = await legacyPost(url, call('admin_panel', { action: 'list_tokens' }), bearer(token));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('www-authenticate'), null);
      assert.equal(res.body?.result?.isError, true);
      assert.equal(textOf(res), 'This tool needs the admin role; you are signed in as a user.');
      const modern = await modernPost(
        url,
        'tools/call',
        { name: 'protected_data', arguments: { category: 'admin' } },
        bearer(token),
      );
      assert.equal(modern.status, 200);
      assert.equal(modern.body?.result?.isError, true);
    });

    it('judges every call in a 2025-03-26 batch', async () => {
      const token = await f.token('demo', 'mcp:tools');
      const body = JSON.stringify([
        { jsonrpc: '2.0', ...call('hello_world') },
        { jsonrpc: '2.0', ...call('protected_data'), id: 3 },
      ]);
      const res = await rawPost(url, body, {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-03-26',
        authorization: `Bearer ${token}`,
      });
      assert.equal(res.status, 403);
      assert.match(res.headers.get('www-authenticate') ?? '', /scope="mcp:data"/);
    });
  });
});

describe('the /mcp gate, demo mode with anonymous access (the default there)', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture({});
  });
  after(() => f.srv.close());

  it('lists every tool to an anonymous caller, those that need an account saying so (issue 9)', async () => {
    const res = await legacyPost(f.srv.mcpUrl, listTools);
    assert.equal(res.status, 200);
    assert.deepEqual(toolNames(res.body), [...DEMO_ADMIN_TOOLS]);
    const tools = (res.body?.result?.tools ?? []) as { name: string; description: string }[];
    const description = (name: string) => tools.find((t) => t.name === name)?.description ?? '';
    for (const name of ['auth_status', 'available_users', 'hello_world', 'quick_login']) {
      assert.doesNotMatch(description(name), /Sign in/, `${name} is public`);
    }
    assert.match(
      description('user_profile'),
      /\[Sign in to use this tool: calling it starts OAuth sign-in \(scopes: mcp:tools\)\.\]$/,
    );
    assert.match(
      description('admin_panel'),
      /\[Sign in as an administrator to use this tool: .*\(scopes: mcp:admin\)\.\]$/,
    );
  });

  it('answers an anonymous call of a signed-in tool 401, naming the basic scopes plus the tool’s', async () => {
    for (const [tool, scopes] of [
      ['user_profile', 'mcp:tools mcp:data'],
      ['admin_panel', 'mcp:tools mcp:data mcp:admin'],
    ] as const) {
      const res = await legacyPost(f.srv.mcpUrl, call(tool));
      assert.equal(res.status, 401, tool);
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer scope="${scopes}", resource_metadata="${f.srv.url}/.well-known/oauth-protected-resource/mcp"`,
      );
    }
  });

  it('still refuses a bad token instead of treating it as anonymous', async () => {
    const res = await legacyPost(f.srv.mcpUrl, listTools, bearer('garbage'));
    assert.equal(res.status, 401);
  });
});
