/**
 * Resource-server-only mode: the external token verifier (src/resource/external/) against a fake
 * authorization server — JWT checks (issuer, audience, expiry, algorithms, key rotation), claims to
 * caller (scp arrays, role claims), and RFC 7662 introspection (caching, revocation, refusals).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import type { ExternalIssuerSettings } from '../../../src/config/config.ts';
import { discoverMetadata, discoveryUrls } from '../../../src/resource/external/discovery.ts';
import {
  ExternalIssuerSetupError,
  ExternalIssuerUnavailableError,
} from '../../../src/resource/external/errors.ts';
import { MAX_IN_FLIGHT } from '../../../src/resource/external/introspection.ts';
import {
  acceptedAlgorithms,
  createExternalTokenVerifier,
  verificationPlan,
} from '../../../src/resource/external/verifier.ts';
import { TokenRejectedError, type TokenVerifier } from '../../../src/resource/verify-token.ts';
import { type FakeIssuer, signingKey, startFakeIssuer } from './fake-issuer.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
let fake: FakeIssuer;

before(async () => {
  fake = await startFakeIssuer();
});
after(() => fake.close());
beforeEach(() => {
  fake.failWith = undefined;
  fake.missing.clear();
  fake.metadata = {};
  fake.introspection.clear();
});

function settings(extra: Partial<ExternalIssuerSettings> = {}): ExternalIssuerSettings {
  return {
    issuer: fake.issuer,
    extraAudiences: [],
    verification: 'auto',
    introspectionClient: undefined,
    introspectionCacheSeconds: 30,
    roleClaim: undefined,
    adminValues: [],
    algorithms: undefined,
    clockSkewSeconds: 30,
    timeoutMs: 3_000,
    startupTimeoutSeconds: 0,
    ...extra,
  };
}

async function verifierFor(
  extra: Partial<ExternalIssuerSettings> = {},
  opts: { now?: () => number; jwksCooldownMs?: number; jwksMaxAgeMs?: number } = {},
): Promise<TokenVerifier> {
  const s = settings(extra);
  return createExternalTokenVerifier({
    settings: s,
    metadata: await discoverMetadata(s),
    resourceUrl: RESOURCE,
    jwksCooldownMs: opts.jwksCooldownMs ?? 0,
    jwksMaxAgeMs: opts.jwksMaxAgeMs,
    now: opts.now,
  });
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: fake.issuer,
    aud: RESOURCE,
    sub: 'alice-sub',
    client_id: 'mcp-client',
    scope: 'mcp:tools',
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    ...extra,
  };
}

async function rejects(promise: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof TokenRejectedError, `expected TokenRejectedError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('external JWT access tokens', () => {
  it('accepts a token of the issuer for <base>/mcp and makes its caller from the claims', async () => {
    const v = await verifierFor();
    const token = await fake.sign(
      claims({ preferred_username: 'alice', name: 'Alice', email: 'a@example.com' }),
    );
    const verified = await v.verify(token);
    assert.equal(verified.subject, 'alice-sub');
    assert.equal(verified.grantId, undefined);
    const caller = verified.caller;
    assert.equal(caller?.kind, 'user');
    if (caller?.kind !== 'user') return;
    assert.deepEqual(
      {
        id: caller.userId,
        username: caller.username,
        name: caller.name,
        email: caller.email,
        role: caller.role,
      },
      { id: 'alice-sub', username: 'alice', name: 'Alice', email: 'a@example.com', role: 'user' },
    );
    assert.equal(caller.issuer, fake.issuer);
    assert.deepEqual([...caller.scopes], ['mcp:tools']);
  });

  it('refuses another issuer', async () => {
    const v = await verifierFor();
    await rejects(
      v.verify(await fake.sign(claims({ iss: 'https://evil.example' }))),
      /another authorization server/,
    );
    // Exact comparison: a trailing slash is another issuer.
    await rejects(
      v.verify(await fake.sign(claims({ iss: `${fake.issuer}/` }))),
      /another authorization server/,
    );
  });

  it('refuses a token for another audience, and accepts a configured extra audience only when set', async () => {
    const strict = await verifierFor();
    await rejects(
      strict.verify(await fake.sign(claims({ aud: 'https://other.example/mcp' }))),
      /not issued for this resource/,
    );
    const entra = await fake.sign(claims({ aud: 'api://sekisho' }));
    await rejects(strict.verify(entra), /not issued for this resource/);
    const loose = await verifierFor({ extraAudiences: ['api://sekisho'] });
    assert.equal((await loose.verify(entra)).subject, 'alice-sub');
  });

  it('refuses an expired token, tolerating only the configured clock skew', async () => {
    const v = await verifierFor({ clockSkewSeconds: 30 });
    const now = Math.floor(Date.now() / 1000);
    await rejects(v.verify(await fake.sign(claims({ exp: now - 31 }))), /expired/);
    assert.ok(await v.verify(await fake.sign(claims({ exp: now - 5 }))));
    await rejects(v.verify(await fake.sign(claims({ nbf: now + 120 }))), /not valid yet/);
    await rejects(v.verify(await fake.sign(claims({ exp: undefined }))), /exp/);
  });

  it('refuses alg none and HS256, whatever the metadata lists', async () => {
    const v = await verifierFor();
    const unsigned = new UnsecuredJWT(claims()).encode();
    await rejects(v.verify(unsigned), /algorithm|malformed|invalid/);
    // HS256 keyed with the published public key's bytes: the classic confusion.
    const secret = new TextEncoder().encode(JSON.stringify(fake.keys[0]!.publicJwk));
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })
      .sign(secret);
    await rejects(v.verify(hs), /algorithm/);
    assert.deepEqual(
      acceptedAlgorithms(undefined, { id_token_signing_alg_values_supported: ['HS256', 'none'] }).includes(
        'HS256',
      ),
      false,
    );
    assert.deepEqual(
      acceptedAlgorithms(undefined, { id_token_signing_alg_values_supported: ['RS256', 'HS256'] }),
      ['RS256'],
    );
  });

  it('limits algorithms to the metadata list: an RS256 token is refused when only ES256 is named', async () => {
    fake.metadata = { id_token_signing_alg_values_supported: ['ES256'] };
    const rsa = await signingKey('r1', 'RS256');
    fake.keys = [fake.keys[0]!, rsa];
    try {
      const v = await verifierFor();
      await rejects(v.verify(await fake.sign(claims(), { key: rsa })), /algorithm/);
      const configured = await verifierFor({ algorithms: ['RS256'] });
      assert.ok(await configured.verify(await fake.sign(claims(), { key: rsa })));
    } finally {
      fake.keys = [fake.keys[0]!];
    }
  });

  it('refuses an unknown kid, then accepts it once the issuer publishes the rotated key', async () => {
    const v = await verifierFor();
    const original = fake.keys;
    const next = await signingKey('k2');
    const token = await fake.sign(claims(), { key: next });
    await rejects(v.verify(token), /unknown key/);
    fake.keys = [next, ...original];
    try {
      assert.equal((await v.verify(token)).subject, 'alice-sub');
    } finally {
      fake.keys = original;
    }
  });

  it('does not refetch the key set for every made-up kid (cooldown)', async () => {
    const v = await verifierFor({}, { jwksCooldownMs: 60_000 });
    await v.verify(await fake.sign(claims())); // first fetch
    const before = fake.counts.jwks;
    for (let i = 0; i < 5; i++) {
      const stranger = await signingKey(`x${i}`);
      await rejects(v.verify(await fake.sign(claims(), { key: stranger })), /unknown key/);
    }
    assert.ok(fake.counts.jwks - before <= 1, `key set fetched ${fake.counts.jwks - before} times`);
  });

  it('reads scopes from scp as an array or a string, and from scope as an array', async () => {
    const v = await verifierFor();
    const okta = await v.verify(
      await fake.sign(claims({ scope: undefined, scp: ['mcp:tools', 'mcp:data'] })),
    );
    assert.deepEqual(okta.scopes, ['mcp:tools', 'mcp:data']);
    const entra = await v.verify(await fake.sign(claims({ scope: undefined, scp: 'mcp:tools mcp:admin' })));
    assert.deepEqual(entra.scopes, ['mcp:tools', 'mcp:admin']);
    const both = await v.verify(await fake.sign(claims({ scope: ['mcp:data'], scp: 'mcp:tools' })));
    assert.deepEqual(both.scopes, ['mcp:data', 'mcp:tools']);
    await rejects(v.verify(await fake.sign(claims({ scp: [1, 2] }))), /scp/);
  });

  it('maps the configured role claim to admin, and everyone else to user', async () => {
    const v = await verifierFor({ roleClaim: 'groups', adminValues: ['sekisho admins'] });
    const admin = await v.verify(await fake.sign(claims({ groups: ['staff', 'sekisho admins'] })));
    assert.equal(admin.caller?.role, 'admin');
    const single = await v.verify(await fake.sign(claims({ groups: 'sekisho admins' })));
    assert.equal(single.caller?.role, 'admin', 'a string claim is one value, spaces and all');
    const user = await v.verify(await fake.sign(claims({ groups: ['staff'] })));
    assert.equal(user.caller?.role, 'user');
    const none = await v.verify(await fake.sign(claims()));
    assert.equal(none.caller?.role, 'user');

    const keycloak = await verifierFor({ roleClaim: 'realm_access.roles', adminValues: ['admin'] });
    const nested = await keycloak.verify(await fake.sign(claims({ realm_access: { roles: ['admin'] } })));
    assert.equal(nested.caller?.role, 'admin');
    const auth0 = await verifierFor({ roleClaim: 'https://sekisho.example/roles', adminValues: ['admin'] });
    const namespaced = await auth0.verify(
      await fake.sign(claims({ 'https://sekisho.example/roles': ['admin'] })),
    );
    assert.equal(namespaced.caller?.role, 'admin');
  });

  it('makes a client-credentials token (sub = client_id) a service, and takes azp when client_id is absent', async () => {
    const v = await verifierFor();
    const service = await v.verify(await fake.sign(claims({ sub: 'mcp-client' })));
    assert.equal(service.caller?.kind, 'service');
    const azp = await v.verify(await fake.sign(claims({ client_id: undefined, azp: 'spa' })));
    assert.equal(azp.clientId, 'spa');
    await rejects(v.verify(await fake.sign(claims({ client_id: undefined }))), /names no client/);
  });

  it('passes a DPoP binding (cnf.jkt) on and refuses confirmations it cannot check', async () => {
    const v = await verifierFor();
    const bound = await v.verify(await fake.sign(claims({ cnf: { jkt: 'thumbprint' } })));
    assert.equal(bound.jkt, 'thumbprint');
    await rejects(v.verify(await fake.sign(claims({ cnf: { 'x5t#S256': 'cert' } }))), /confirmation/);
  });

  it('accepts typ JWT or none, and refuses other token types', async () => {
    const v = await verifierFor();
    assert.ok(await v.verify(await fake.sign(claims(), { typ: 'JWT' })));
    await rejects(v.verify(await fake.sign(claims(), { typ: 'logout+jwt' })), /not an access token/);
  });

  it('answers "unavailable" (not a rejection) when the key set cannot be read', async () => {
    const v = await verifierFor();
    fake.failWith = 503;
    await assert.rejects(v.verify(await fake.sign(claims())), ExternalIssuerUnavailableError);
  });

  it('keeps verifying with the last published keys while a due re-read fails (stale-if-error)', async () => {
    const v = await verifierFor({}, { jwksMaxAgeMs: 1 });
    assert.ok(await v.verify(await fake.sign(claims()))); // the set is fetched
    await new Promise((r) => setTimeout(r, 20)); // and is now due for a re-read
    fake.failWith = 503;
    const before = fake.counts.jwks;
    assert.equal((await v.verify(await fake.sign(claims()))).subject, 'alice-sub');
    assert.ok(fake.counts.jwks > before, 'the re-read was tried');
    const stranger = await signingKey('new-kid');
    await assert.rejects(
      v.verify(await fake.sign(claims(), { key: stranger })),
      ExternalIssuerUnavailableError,
    );
  });

  it('refuses an opaque token when no introspection client is configured', async () => {
    const v = await verifierFor();
    await rejects(v.verify('opaque-token-value'), /only JWT access tokens/);
  });
});

describe('external tokens through introspection (RFC 7662)', () => {
  const client = { id: 'sekisho-rs', secret: 's3cret:with/odd chars' };

  it('accepts an active token, authenticating with client_secret_basic', async () => {
    const v = await verifierFor({ introspectionClient: client });
    fake.introspection.set('opaque-1', claims({ active: true, username: 'bob' }));
    const verified = await v.verify('opaque-1');
    assert.equal(verified.caller?.kind, 'user');
    assert.equal(verified.caller?.kind === 'user' && verified.caller.username, 'bob');
    const seen = fake.introspectionRequests.at(-1)!;
    const decoded = Buffer.from(seen.authorization!.replace(/^Basic /, ''), 'base64').toString();
    assert.equal(decoded, 'sekisho-rs:s3cret%3Awith%2Fodd+chars');
    assert.match(seen.body, /token_type_hint=access_token/);
  });

  it('refuses inactive, foreign-audience, foreign-issuer and refresh tokens', async () => {
    const v = await verifierFor({ introspectionClient: client, introspectionCacheSeconds: 0 });
    await rejects(v.verify('unknown'), /not active/);
    fake.introspection.set('aud', claims({ active: true, aud: 'https://other.example' }));
    await rejects(v.verify('aud'), /not issued for this resource/);
    fake.introspection.set('noaud', claims({ active: true, aud: undefined }));
    await rejects(v.verify('noaud'), /not issued for this resource/);
    fake.introspection.set('iss', claims({ active: true, iss: 'https://evil.example' }));
    await rejects(v.verify('iss'), /another authorization server/);
    fake.introspection.set('rt', claims({ active: true, token_type: 'refresh_token' }));
    await rejects(v.verify('rt'), /refresh token/);
  });

  it('caches answers for the configured time, never past exp, so a revocation lands within it', async () => {
    let now = Date.now();
    const v = await verifierFor(
      { introspectionClient: client, introspectionCacheSeconds: 60 },
      { now: () => now },
    );
    const exp = Math.floor(now / 1000) + 20;
    fake.introspection.set('cached', claims({ active: true, exp }));
    const before = fake.counts.introspection;
    await v.verify('cached');
    await v.verify('cached');
    assert.equal(fake.counts.introspection - before, 1, 'the second check is answered from the cache');
    fake.introspection.set('cached', { active: false }); // revoked at the issuer
    now += 21_000; // past exp (20 s), well within the 60 s cache period
    await rejects(v.verify('cached'), /not active/);
    assert.equal(fake.counts.introspection - before, 2);
  });

  it('keeps an "inactive" answer cached even when the gate forgets the refused token', async () => {
    const v = await verifierFor({ introspectionClient: client, introspectionCacheSeconds: 30 });
    const before = fake.counts.introspection;
    for (let i = 0; i < 5; i++) {
      await rejects(v.verify('dead-token'), /not active/);
      v.forget('dead-token'); // what the gate does after every refusal
    }
    assert.equal(fake.counts.introspection - before, 1, 'one request for five attempts');
  });

  it('with cache 0, a revocation at the issuer is refused on the next request', async () => {
    const v = await verifierFor({ introspectionClient: client, introspectionCacheSeconds: 0 });
    fake.introspection.set('live', claims({ active: true }));
    assert.ok(await v.verify('live'));
    fake.introspection.set('live', { active: false });
    await rejects(v.verify('live'), /not active/);
  });

  it('introspects JWTs too in introspection mode', async () => {
    const v = await verifierFor({
      introspectionClient: client,
      verification: 'introspection',
      introspectionCacheSeconds: 0,
    });
    const jwt = await fake.sign(claims());
    await rejects(v.verify(jwt), /not active/); // the issuer does not know it: introspection decides
    fake.introspection.set(jwt, claims({ active: true }));
    assert.ok(await v.verify(jwt));
  });

  it('asks once for concurrent checks of one token, and caps introspections in flight', async () => {
    const v = await verifierFor({ introspectionClient: client, introspectionCacheSeconds: 0 });
    fake.introspection.set('shared', claims({ active: true }));
    fake.introspectionDelayMs = 300;
    try {
      const before = fake.counts.introspection;
      await Promise.all(Array.from({ length: 10 }, () => v.verify('shared')));
      assert.equal(fake.counts.introspection - before, 1, 'ten concurrent checks, one request');
      const outcomes = await Promise.allSettled(
        Array.from({ length: MAX_IN_FLIGHT + 5 }, (_, i) => v.verify(`distinct-${i}`)),
      );
      const refused = outcomes.filter(
        (o) => o.status === 'rejected' && o.reason instanceof ExternalIssuerUnavailableError,
      );
      assert.equal(refused.length, 5, 'beyond the cap: unavailable (503), not queued');
    } finally {
      fake.introspectionDelayMs = 0;
    }
  });

  it('answers "unavailable" when the issuer refuses our client or fails', async () => {
    const v = await verifierFor({ introspectionClient: client, introspectionCacheSeconds: 0 });
    fake.failWith = 401;
    await assert.rejects(v.verify('x-token'), ExternalIssuerUnavailableError);
    fake.failWith = 500;
    await assert.rejects(v.verify('x-token'), ExternalIssuerUnavailableError);
  });
});

describe('external issuer discovery', () => {
  it('tries RFC 8414 first, then OpenID discovery, with path insertion for issuers with a path', () => {
    assert.deepEqual(discoveryUrls('https://idp.example'), [
      'https://idp.example/.well-known/oauth-authorization-server',
      'https://idp.example/.well-known/openid-configuration',
    ]);
    assert.deepEqual(discoveryUrls('https://idp.example/tenant/v2.0'), [
      'https://idp.example/.well-known/oauth-authorization-server/tenant/v2.0',
      'https://idp.example/.well-known/openid-configuration/tenant/v2.0',
      'https://idp.example/tenant/v2.0/.well-known/openid-configuration',
    ]);
  });

  it('falls back to OpenID discovery when RFC 8414 metadata is missing', async () => {
    fake.missing.add('/.well-known/oauth-authorization-server');
    const metadata = await discoverMetadata(settings());
    assert.equal(metadata.metadataUrl, `${fake.url}/.well-known/openid-configuration`);
  });

  it('refuses metadata naming another issuer, and says when there is none', async () => {
    fake.metadata = { issuer: `${fake.issuer}/` };
    await assert.rejects(
      discoverMetadata(settings()),
      (e: unknown) => e instanceof ExternalIssuerSetupError && /match it exactly/.test(e.message),
    );
    fake.metadata = {};
    fake.missing.add('/.well-known/oauth-authorization-server');
    fake.missing.add('/.well-known/openid-configuration');
    await assert.rejects(discoverMetadata(settings()), /no authorization server metadata/);
  });

  it('refuses to start when the metadata lacks what the settings need', async () => {
    fake.metadata = { jwks_uri: undefined };
    const jwtOnly = settings();
    const noKeys = await discoverMetadata(jwtOnly);
    assert.throws(() => verificationPlan(jwtOnly, noKeys), /has no jwks_uri/);
    assert.throws(
      () => createExternalTokenVerifier({ settings: jwtOnly, metadata: noKeys, resourceUrl: RESOURCE }),
      ExternalIssuerSetupError,
    );
    const client = { id: 'c', secret: 's' };
    // Opaque-only works without keys when introspection is there.
    assert.deepEqual(verificationPlan(settings({ introspectionClient: client }), noKeys).jwksUri, undefined);
    fake.metadata = { introspection_endpoint: undefined };
    const noIntrospection = await discoverMetadata(settings());
    assert.throws(
      () => verificationPlan(settings({ introspectionClient: client }), noIntrospection),
      /SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: .* has no introspection_endpoint/,
    );
    fake.metadata = { introspection_endpoint_auth_methods_supported: ['private_key_jwt'] };
    const jwtAuthOnly = await discoverMetadata(settings());
    assert.throws(
      () => verificationPlan(settings({ introspectionClient: client }), jwtAuthOnly),
      /neither client_secret_basic nor client_secret_post/,
    );
  });

  it('calls an unreachable issuer unavailable, not wrong', async () => {
    await assert.rejects(
      discoverMetadata({ issuer: 'http://127.0.0.1:9', timeoutMs: 2_000 }),
      ExternalIssuerUnavailableError,
    );
  });
});
