/**
 * Issue 8: a new password, a lowered role or a removed account ends the user's sign-in sessions and
 * revokes their grants. Before, the old browser session still completed `prompt=none` and the old
 * refresh token still worked.
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

/** A silent (prompt=none) authorization with the browser's session: a code, or the error. */
async function silent(jar: CookieJar, clientId: string) {
  const flow = await browserlessLogin(
    authorizeUrl(srv.url, {
      clientId,
      challenge: pkce().challenge,
      prompt: 'none',
      resource: `${srv.url}/mcp`,
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
    ['lowering the role', (u: string) => srv.sekisho.identity.setRole(u, 'user')],
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

  it('raising a role keeps the session and grants (nothing was granted beyond the old role)', async () => {
    await srv.sekisho.identity.addUser({ username: 'riser', password: 'riser-password-1' });
    const { client, jar, refreshToken } = await signedIn('riser', 'riser-password-1');
    await srv.sekisho.identity.setRole('riser', 'admin');
    assert.equal(await silent(jar, client.client_id), 'code');
    assert.equal((await refresh(srv.url, { clientId: client.client_id, refreshToken })).status, 200);
  });
});
