/**
 * Issue 8: a new password, a lowered role or a removed account ends the user's sign-in sessions; a
 * new password or removal also revokes their grants, a lowered role clamps them to the new role.
 * Before, the old browser session still completed `prompt=none` and the old refresh token still
 * worked after a password change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserlessLogin, type CookieJar } from '../helpers/browserless-login.ts';
import { authorizeUrl, pkce, refresh, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(() => srv?.close());

/** Signs `username` in through the real pages (remembering consent) and returns what a browser and a client hold. */
async function signedIn(username: string, password: string) {
  const { client, flow, tokens } = await signIn(srv.url, { username, password, remember: true });
  assert.equal(tokens.status, 200);
  return { client, jar: flow.jar, refreshToken: tokens.body.refresh_token as string };
}

/**
 * A silent (prompt=none) authorization with the browser's session: a code, or the error. It asks for
 * `scope` (the default set when omitted), which must be what was granted, else it is consent_required.
 */
async function silent(jar: CookieJar, clientId: string, scope?: string) {
  const flow = await browserlessLogin(
    authorizeUrl(srv.url, {
      clientId,
      challenge: pkce().challenge,
      prompt: 'none',
      resource: `${srv.url}/mcp`,
      scope,
    }),
    { username: '', password: '', jar },
  );
  return flow.callback.searchParams.get('code') ? 'code' : flow.callback.searchParams.get('error');
}

async function accountPageSignedIn(jar: CookieJar): Promise<boolean> {
  const html = await (await jar.fetch(`${srv.url}/account`)).text();
  return html.includes('/account/logout');
}

describe('user lifecycle ends sign-ins', () => {
  for (const [change, run] of [
    ['sekisho users passwd', (u: string) => srv.sekisho.identity.setPassword(u, 'a-brand-new-password')],
    ['removing the user', (u: string) => srv.sekisho.identity.removeUser(u)],
  ] as const) {
    it(`${change}: the old browser session no longer completes prompt=none, the old refresh token is dead`, async () => {
      const username = `life-${change.length}-${Date.now() % 100_000}`;
      await srv.sekisho.identity.addUser({ username, password: 'first-password-1', role: 'admin' });
      const { client, jar, refreshToken } = await signedIn(username, 'first-password-1');
      assert.equal(await silent(jar, client.client_id), 'code', 'before the change the session is live');
      assert.equal(await accountPageSignedIn(jar), true);

      await run(username);

      assert.equal(await silent(jar, client.client_id), 'login_required');
      const refreshed = await refresh(srv.url, { clientId: client.client_id, refreshToken });
      assert.equal(refreshed.status, 400);
      assert.equal(refreshed.body.error, 'invalid_grant');
      assert.equal(await accountPageSignedIn(jar), false, 'the account page signs out too');
    });
  }

  it('lowering the role: the old browser session no longer completes prompt=none; the grant narrows to the new role', async () => {
    await srv.sekisho.identity.addUser({
      username: 'lowered',
      password: 'lowered-password-1',
      role: 'admin',
    });
    const { client, flow, tokens } = await signIn(
      srv.url,
      { username: 'lowered', password: 'lowered-password-1', remember: true },
      { scope: 'mcp:tools mcp:admin' },
    );
    assert.equal(tokens.body.scope, 'mcp:tools mcp:admin');
    assert.equal(await silent(flow.jar, client.client_id, 'mcp:tools mcp:admin'), 'code');
    await srv.sekisho.identity.setRole('lowered', 'user');
    assert.equal(await silent(flow.jar, client.client_id, 'mcp:tools mcp:admin'), 'login_required');
    assert.equal(await accountPageSignedIn(flow.jar), false);
    const narrowed = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(narrowed.status, 200);
    assert.equal(narrowed.body.scope, 'mcp:tools');
  });

  it('raising a role keeps the session and grants (nothing was granted beyond the old role)', async () => {
    await srv.sekisho.identity.addUser({ username: 'riser', password: 'riser-password-1' });
    const { client, jar, refreshToken } = await signedIn('riser', 'riser-password-1');
    await srv.sekisho.identity.setRole('riser', 'admin');
    assert.equal(await silent(jar, client.client_id), 'code');
    assert.equal((await refresh(srv.url, { clientId: client.client_id, refreshToken })).status, 200);
  });
});
