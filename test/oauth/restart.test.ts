/**
 * Persistence: stop the server and start it again on the same data directory. Registered clients,
 * grants, refresh tokens, signing keys (and the cookie keys derived from them) all survive, and an
 * access token issued before the restart still verifies against the JWKS served after it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { loadConfig } from '../../src/config/load.ts';
import { type Sekisho, startSekisho } from '../../src/server.ts';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { authorizeUrl, exchangeCode, pkce, refresh, signIn } from '../helpers/oauth.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-restart-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(port: number): Promise<Sekisho> {
  return startSekisho(
    loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      SEKISHO_DATA_DIR: dataDir,
      SEKISHO_LOG_LEVEL: 'silent',
      SEKISHO_DEMO: '1',
    }),
  );
}

describe('restart on the same data directory', () => {
  it('keeps clients, grants, refresh tokens, keys and sessions; old access tokens still verify', async () => {
    let first: Sekisho | undefined = await start(0);
    let second: Sekisho | undefined;
    try {
      const port = first.config.port;
      const { client, tokens, flow } = await signIn(first.url, { username: 'demo', password: 'demo123' });
      assert.equal(tokens.status, 200);
      const kids = first.authorizationServer!.verificationKeys.keys.map((k) => k.kid);
      await first.close();
      first = undefined;

      // Same port, so the issuer (http://localhost:<port>) is the same as before.
      second = await start(port);
      const url = second.url;
      // fetch's keep-alive pool may still hold a socket to the stopped server; the first request
      // on it fails with "other side closed". Spend that failure here, not in an assertion.
      await fetch(`${url}/healthz`).catch(() => undefined);
      assert.deepEqual(
        second.authorizationServer!.verificationKeys.keys.map((k) => k.kid),
        kids,
      );
      const verify = (jwt: string, keys: Parameters<typeof jwtVerify>[1]) =>
        jwtVerify(jwt, keys, { issuer: url, audience: `${url}/mcp`, typ: 'at+jwt' });
      await verify(tokens.body.access_token, createRemoteJWKSet(new URL(`${url}/oauth/jwks`)));
      await verify(
        tokens.body.access_token,
        createLocalJWKSet({ keys: [...second.authorizationServer!.verificationKeys.keys] }),
      );

      // The refresh token and its grant survived.
      const refreshed = await refresh(url, {
        clientId: client.client_id,
        refreshToken: tokens.body.refresh_token,
      });
      assert.equal(refreshed.status, 200);
      const user = await second.identity.findByUsername('demo');
      const grants = await second.authorizationServer!.listGrants({ accountId: user!.id });
      assert.equal(grants.filter((g) => g.clientId === client.client_id).length, 1);

      // The client is still registered, and the browser's sign-in session still works (cookie keys
      // are derived from the persisted signing key): consent only, no login page.
      const { verifier, challenge } = pkce();
      const again = await browserlessLogin(authorizeUrl(url, { clientId: client.client_id, challenge }), {
        username: 'demo',
        password: 'demo123',
        jar: flow.jar,
      });
      assert.equal(again.pages.length, 1);
      assert.match(again.pages[0]!.html, /\/consent"/);
      const code = again.callback.searchParams.get('code')!;
      const exchanged = await exchangeCode(url, { clientId: client.client_id, code, verifier });
      assert.equal(exchanged.status, 200);
    } finally {
      await first?.close();
      await second?.close();
    }
  });
});
