/**
 * Issue 8: a wrong `resource` at the token endpoint is `invalid_target` and consumes nothing, so the
 * client's corrected retry succeeds (before, the code or refresh token was consumed first, and the
 * retry looked like a replay that revoked the grant).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { authorizeUrl, exchangeCode, pkce, refresh, registerClient } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv?.close());

const WRONG = ['https://evil.example/mcp', 'RESOURCE_PLACEHOLDER/other'];

describe('resource is checked before anything is consumed', () => {
  it('authorization code: invalid_target, then the corrected exchange succeeds', async () => {
    const client = await registerClient(srv.url);
    const { verifier, challenge } = pkce();
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, { clientId: client.client_id, challenge, resource: `${srv.url}/mcp` }),
      { username: 'demo', password: 'demo123' },
    );
    const code = flow.callback.searchParams.get('code')!;
    for (const wrong of WRONG.map((w) => w.replace('RESOURCE_PLACEHOLDER', srv.url))) {
      const bad = await exchangeCode(srv.url, {
        clientId: client.client_id,
        code,
        verifier,
        resource: wrong,
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, 'invalid_target');
    }
    const good = await exchangeCode(srv.url, {
      clientId: client.client_id,
      code,
      verifier,
      resource: `${srv.url}/mcp`,
    });
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.ok(good.body.refresh_token);

    // Refresh token: the same rule.
    const badRefresh = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: good.body.refresh_token,
      resource: 'https://evil.example/mcp',
    });
    assert.equal(badRefresh.status, 400);
    assert.equal(badRefresh.body.error, 'invalid_target');
    const goodRefresh = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: good.body.refresh_token,
      resource: `${srv.url}/mcp`,
    });
    assert.equal(goodRefresh.status, 200, JSON.stringify(goodRefresh.body));
    // And without a resource at all (the granted one is used).
    const plain = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: goodRefresh.body.refresh_token,
    });
    assert.equal(plain.status, 200);
  });
});
