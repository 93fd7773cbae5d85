/**
 * The seed's MCP Inspector walkthrough, with real tokens: in demo mode an anonymous client calls
 * `quick_login`, copies the access token, pastes it as a Bearer header and reconnects — and sees the
 * tools of that account. The seed's `auth/quick_login` / `auth/token_login` JSON-RPC methods work in
 * both protocol eras. The tokens are ordinary access tokens: audience-bound, revocable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectV1, connectV2, firstText, staticBearer } from '../helpers/clients.ts';
import { legacyPost, modernPost } from '../helpers/mcp-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv.close());

async function quickLogin(username: string, password: string) {
  const anonymous = await connectV2(srv.mcpUrl, { mode: 'modern' });
  try {
    return await anonymous.client.callTool({ name: 'quick_login', arguments: { username, password } });
  } finally {
    await anonymous.close();
  }
}

describe('quick_login (demo mode): copy the token, paste it as Bearer, reconnect', () => {
  it('mints a real token with the role’s scopes that unlocks the account’s tools', async () => {
    const result = await quickLogin('admin', 'admin123');
    assert.equal(result.isError, undefined);
    const token = (result.structuredContent as { access_token: string; scope: string }).access_token;
    assert.equal((result.structuredContent as { scope: string }).scope, 'mcp:tools mcp:data mcp:admin');
    assert.match(firstText(result), /Access Token: eyJ/);

    const v2 = await connectV2(srv.mcpUrl, { mode: 'legacy', authProvider: staticBearer(token) });
    const tools = (await v2.client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('admin_panel'));
    const stats = await v2.client.callTool({ name: 'admin_panel', arguments: { action: 'user_stats' } });
    assert.match(firstText(stats), /Users: 3 \(2 admins\)/);
    await v2.close();

    // MCP Inspector embeds the v1 client: the pasted header works there too.
    const v1 = await connectV1(srv.mcpUrl, { headers: { authorization: `Bearer ${token}` } });
    const status = await v1.client.callTool({ name: 'auth_status', arguments: {} });
    assert.match(firstText(status), /Current User: Admin User \(admin\)/);
    assert.match(firstText(status), /Client: sekisho-quick-login/);
    await v1.close();
  });

  it('admin_panel list_tokens shows its grant expiring with its one access token, not months later (issue 9)', async () => {
    const result = await quickLogin('inspector', 'inspector123');
    const token = (result.structuredContent as { access_token: string }).access_token;
    const v2 = await connectV2(srv.mcpUrl, { mode: 'legacy', authProvider: staticBearer(token) });
    try {
      const listed = await v2.client.callTool({ name: 'admin_panel', arguments: { action: 'list_tokens' } });
      const data = listed.structuredContent as {
        grants: { username: string; clientId: string; expiresAt: number }[];
        accessTokenTtlSeconds: number;
      };
      assert.equal(data.accessTokenTtlSeconds, srv.config.accessTokenTtlSeconds);
      const mine = data.grants.filter((g) => g.username === 'inspector');
      assert.equal(mine.length, 1);
      const left = mine[0]!.expiresAt - Math.floor(Date.now() / 1000);
      assert.ok(left > 0 && left <= srv.config.accessTokenTtlSeconds, `grant lives ${left} s`);
      assert.match(firstText(listed), /\(grant expires: [^)]+\)/);
      assert.match(
        firstText(listed),
        /Each access token lasts 10 min; clients renew them with refresh tokens/,
      );
    } finally {
      await v2.close();
    }
  });

  it('gives a user-role account only its scopes, and refuses wrong passwords', async () => {
    const demo = await quickLogin('demo', 'demo123');
    assert.equal((demo.structuredContent as { scope: string }).scope, 'mcp:tools mcp:data');
    const wrong = await quickLogin('demo', 'nope');
    assert.equal(wrong.isError, true);
    assert.match(firstText(wrong), /Login failed for user: demo/);
  });

  it('the token is revocable like any other: revoke its grant, the next request is 401', async () => {
    const result = await quickLogin('demo', 'demo123');
    const token = (result.structuredContent as { access_token: string }).access_token;
    const list = { id: 1, method: 'tools/list', params: {} };
    const auth = { headers: { authorization: `Bearer ${token}` } };
    assert.equal((await legacyPost(srv.mcpUrl, list, auth)).status, 200);
    const user = await srv.sekisho.identity.findByUsername('demo');
    const grants = await srv.sekisho.authorizationServer!.listGrants({ accountId: user!.id });
    for (const g of grants) await srv.sekisho.authorizationServer!.revokeGrant(g.grantId);
    assert.equal((await legacyPost(srv.mcpUrl, list, auth)).status, 401);
  });
});

describe('the seed’s auth/quick_login and auth/token_login JSON-RPC methods (demo mode)', () => {
  for (const era of ['legacy', 'modern'] as const) {
    it(`work in the ${era} era`, async () => {
      const send = (method: string, params: Record<string, unknown>) =>
        era === 'legacy'
          ? legacyPost(srv.mcpUrl, { id: 7, method, params })
          : modernPost(srv.mcpUrl, method, params);
      const login = await send('auth/quick_login', { username: 'inspector', password: 'inspector123' });
      assert.equal(login.status, 200, login.text);
      const result = login.body?.result as {
        success: boolean;
        access_token: string;
        user: { username: string };
      };
      assert.equal(result.success, true);
      assert.equal(result.user.username, 'inspector');
      const who = await send('auth/token_login', { token: result.access_token });
      assert.equal(
        (who.body?.result as { user?: { name: string } } | undefined)?.user?.name,
        'MCP Inspector User',
      );

      const bad = await send('auth/quick_login', { username: 'inspector', password: 'wrong' });
      assert.equal(bad.body?.error?.code, -32602);
      assert.equal(bad.body?.error?.message, 'Invalid credentials');
      const badToken = await send('auth/token_login', { token: 'not-a-token' });
      assert.equal(badToken.body?.error?.message, 'Invalid or expired token');
    });
  }

  it('do not exist outside demo mode', async () => {
    const prod = await startTestServer({ SEKISHO_ANONYMOUS: '1' });
    try {
      const res = await legacyPost(prod.mcpUrl, {
        id: 1,
        method: 'auth/quick_login',
        params: { username: 'a', password: 'b' },
      });
      assert.equal(res.body?.error?.code, -32601);
    } finally {
      await prod.close();
    }
  });
});
