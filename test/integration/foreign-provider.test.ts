/**
 * The foreign OpenID provider the federation and resource-server-only tests stand up: it must behave
 * like a real, independent IdP (discovery, code flow with PKCE, `iss` in the response, RS256 ID
 * tokens with groups/e-mail, RFC 8707 JWT access tokens for the requested audience, DCR,
 * introspection and revocation), or those tests would prove nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { type ForeignProvider, startForeignProvider } from '../helpers/foreign-provider.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

describe('foreign OpenID provider (test helper)', () => {
  let idp: ForeignProvider;
  before(async () => {
    idp = await startForeignProvider({
      issuerPath: '/realms/acme',
      users: [
        { username: 'alice', password: 'alice-pw', email: 'alice@acme.test', groups: ['sekisho-admins'] },
      ],
      clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [REDIRECT] }],
    });
  });
  after(() => idp?.close());

  async function signIn(extra: Record<string, string> = {}, config?: client.Configuration) {
    const rp =
      config ??
      (await client.discovery(new URL(idp.issuer), 'rp', 'rp-secret', undefined, {
        execute: [client.allowInsecureRequests],
      }));
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT,
      scope: 'openid email groups offline_access',
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    const { callback } = await browserlessLogin(url, { username: 'alice', password: 'alice-pw' });
    const tokens = await client.authorizationCodeGrant(rp, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    return { rp, callback, tokens };
  }

  it('serves discovery at its own issuer with the features the tests rely on', async () => {
    const meta = (await (await fetch(idp.discoveryUrl)).json()) as Record<string, unknown>;
    assert.equal(meta.issuer, idp.issuer);
    assert.ok(idp.issuer.endsWith('/realms/acme'));
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    assert.ok(meta.registration_endpoint);
    assert.ok(meta.introspection_endpoint);
    assert.ok(meta.revocation_endpoint);
  });

  it('runs the code flow with PKCE: iss in the response, a signed ID token with groups and e-mail', async () => {
    const { callback, tokens } = await signIn();
    assert.equal(callback.searchParams.get('iss'), idp.issuer);
    const claims = tokens.claims()!;
    assert.equal(claims.sub, idp.subjectOf('alice'));
    assert.equal(claims.email, 'alice@acme.test');
    assert.deepEqual(claims.groups, ['sekisho-admins']);
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    const jwks = createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    const { protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
      issuer: idp.issuer,
      audience: 'rp',
    });
    assert.equal(protectedHeader.alg, 'RS256');
  });

  it('issues a JWT access token whose audience is the requested resource (RFC 8707)', async () => {
    const resource = 'http://127.0.0.1:9/mcp';
    const { tokens } = await signIn({ resource, scope: 'openid mcp:tools' });
    const jwks = createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: idp.issuer,
      audience: resource,
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.scope, 'mcp:tools');
    assert.deepEqual(payload.groups, ['sekisho-admins']);
  });

  it('introspects and revokes opaque resource tokens through its admin client', async () => {
    const resource = 'http://127.0.0.1:9/mcp';
    idp.setResourceTokenFormat('opaque');
    try {
      const { tokens } = await signIn({ resource, scope: 'openid mcp:tools' });
      const active = await idp.introspect(tokens.access_token);
      assert.equal(active.active, true);
      assert.equal(active.aud, resource);
      assert.equal(active.scope, 'mcp:tools');
      await idp.revoke(tokens.access_token, 'access_token');
      assert.equal((await idp.introspect(tokens.access_token)).active, false, 'revoked at the foreign AS');
    } finally {
      idp.setResourceTokenFormat('jwt');
    }
  });

  it('registers clients dynamically (RFC 7591) and a client added later signs in', async () => {
    const registered = await client.dynamicClientRegistration(
      new URL(idp.issuer),
      { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
      client.None(),
      { execute: [client.allowInsecureRequests] },
    );
    const { tokens } = await signIn({}, registered);
    assert.ok(tokens.access_token);
    idp.addClient({ client_id: 'late', client_secret: 'late-secret', redirect_uris: [REDIRECT] });
    const late = await client.discovery(new URL(idp.issuer), 'late', 'late-secret', undefined, {
      execute: [client.allowInsecureRequests],
    });
    assert.ok((await signIn({}, late)).tokens.id_token);
  });

  it('re-signs tampered ID tokens so relying-party checks can be tested', async () => {
    idp.tamperIdToken((claims) => ({ ...claims, aud: 'someone-else' }));
    try {
      await assert.rejects(signIn(), (err: Error) => /"aud"/.test(String((err.cause as Error)?.message)));
    } finally {
      idp.tamperIdToken(undefined);
    }
    const { tokens } = await signIn();
    assert.equal(decodeJwt(tokens.id_token!).aud, 'rp');
  });

  it('refuses wrong passwords with the form again', async () => {
    const rp = await client.discovery(new URL(idp.issuer), 'rp', 'rp-secret', undefined, {
      execute: [client.allowInsecureRequests],
    });
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await assert.rejects(
      browserlessLogin(url, { username: 'alice', password: 'nope', maxSteps: 6 }),
      /no redirect back/,
    );
  });
});
