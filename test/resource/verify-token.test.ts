import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createTokenCache } from '../../src/resource/token-cache.ts';
import { createTokenVerifier, TokenRejectedError } from '../../src/resource/verify-token.ts';
import { mint, rawJws, type TestKeys, testKeys } from '../helpers/access-tokens.ts';

const ISSUER = 'http://localhost:3999';
const AUD = `${ISSUER}/mcp`;

let keys: TestKeys;
let other: TestKeys;
before(async () => {
  keys = await testKeys('k1');
  other = await testKeys('k1'); // same kid, different key: a forged signature
});

function verifier(extra: Partial<Parameters<typeof createTokenVerifier>[0]> = {}) {
  return createTokenVerifier({ issuer: ISSUER, audience: AUD, keys: () => keys.jwks, ...extra });
}

async function rejects(token: string, pattern: RegExp, v = verifier()) {
  await assert.rejects(v.verify(token), (e: unknown) => {
    assert.ok(e instanceof TokenRejectedError, `expected TokenRejectedError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('access-token verification', () => {
  it('accepts a well-formed token and maps its claims', async () => {
    const token = await mint(keys, {
      issuer: ISSUER,
      audience: AUD,
      scope: 'mcp:tools mcp:admin',
      gid: 'g9',
    });
    const v = await verifier().verify(token);
    assert.equal(v.subject, 'user-1');
    assert.equal(v.clientId, 'client-1');
    assert.deepEqual(v.scopes, ['mcp:tools', 'mcp:admin']);
    assert.equal(v.grantId, 'g9');
    assert.ok(v.expiresAt > Date.now() / 1000);
  });

  it('accepts an audience array that contains the MCP URL', async () => {
    const token = await mint(keys, { issuer: ISSUER, audience: ['https://other.example', AUD] });
    assert.equal((await verifier().verify(token)).subject, 'user-1');
  });

  it('caches the verdict by token digest and re-verifies nothing on a hit', async () => {
    const v = verifier();
    const token = await mint(keys, { issuer: ISSUER, audience: AUD });
    await v.verify(token);
    await v.verify(token);
    assert.deepEqual({ hits: v.stats.hits, misses: v.stats.misses }, { hits: 1, misses: 1 });
    v.forget(token);
    await v.verify(token);
    assert.equal(v.stats.misses, 2);
  });

  it('rejects another audience', async () => {
    await rejects(
      await mint(keys, { issuer: ISSUER, audience: 'http://localhost:3999/other' }),
      /not issued for this resource/,
    );
  });
  it('rejects another issuer', async () => {
    await rejects(
      await mint(keys, { issuer: 'http://evil.example', audience: AUD }),
      /another authorization server/,
    );
  });
  it('rejects a token whose issuer differs only by a trailing slash', async () => {
    await rejects(await mint(keys, { issuer: `${ISSUER}/`, audience: AUD }), /another authorization server/);
  });
  it('rejects an expired token (beyond the 30 s skew)', async () => {
    await rejects(await mint(keys, { issuer: ISSUER, audience: AUD, expiresIn: -31 }), /expired/);
  });
  it('tolerates 30 s of clock skew on exp', async () => {
    const token = await mint(keys, { issuer: ISSUER, audience: AUD, expiresIn: -20 });
    assert.equal((await verifier().verify(token)).subject, 'user-1');
  });
  it('rejects a token not valid yet', async () => {
    await rejects(await mint(keys, { issuer: ISSUER, audience: AUD, notBefore: 120 }), /not valid yet/);
  });
  it('rejects a JWT that is not an access token (typ)', async () => {
    await rejects(await mint(keys, { issuer: ISSUER, audience: AUD, typ: 'JWT' }), /typ must be at\+jwt/);
  });
  it('accepts the media-type form application/at+jwt', async () => {
    const token = await mint(keys, { issuer: ISSUER, audience: AUD, typ: 'application/at+jwt' });
    assert.equal((await verifier().verify(token)).subject, 'user-1');
  });
  for (const claim of ['sub', 'client_id', 'scope', 'gid']) {
    it(`rejects a token without ${claim}`, async () => {
      await rejects(await mint(keys, { issuer: ISSUER, audience: AUD, omit: [claim] }), new RegExp(claim));
    });
  }
  it('rejects a forged signature', async () => {
    await rejects(await mint(other, { issuer: ISSUER, audience: AUD }), /signature is invalid/);
  });
  it('rejects alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = rawJws(
      { alg: 'none', typ: 'at+jwt' },
      { iss: ISSUER, aud: AUD, sub: 'u', client_id: 'c', scope: 'mcp:admin', gid: 'g', exp: now + 60 },
    );
    await rejects(token, /algorithm this server does not accept/);
  });
  it('rejects HS256 signed with the public key as the HMAC secret (alg confusion)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'HS256', typ: 'at+jwt', kid: keys.kid };
    const payload = {
      iss: ISSUER,
      aud: AUD,
      sub: 'u',
      client_id: 'c',
      scope: 'mcp:admin',
      gid: 'g',
      exp: now + 60,
    };
    const unsigned = rawJws(header, payload).slice(0, -1);
    const secret = JSON.stringify(keys.publicJwk);
    const sig = createHmac('sha256', secret).update(unsigned).digest('base64url');
    await rejects(`${unsigned}.${sig}`, /algorithm this server does not accept/);
  });
  it('rejects garbage and oversize input as malformed', async () => {
    await rejects('not a jwt', /malformed/);
    await rejects('a.b.c', /invalid/);
    await rejects('x'.repeat(9000), /malformed/);
  });

  it('re-reads the key set on an unknown kid (rotation), throttled', async () => {
    const rotated = await testKeys('k2');
    let calls = 0;
    let set = keys.jwks;
    let clock = 1_000_000;
    const v = verifier({
      keys: () => {
        calls++;
        return set;
      },
      now: () => clock,
      keyRefreshMinIntervalMs: 5_000,
    });
    const iat = Math.floor(clock / 1000);
    const tokenK2 = await mint(rotated, { issuer: ISSUER, audience: AUD, expiresIn: 10_000_000_000 - iat });
    await rejects(tokenK2, /unknown key/, v); // first load, k2 not published yet
    assert.equal(calls, 1);
    set = { keys: [keys.publicJwk, rotated.publicJwk] };
    await rejects(tokenK2, /unknown key/, v); // within the throttle window: no reload
    assert.equal(calls, 1);
    clock += 5_001;
    assert.equal((await v.verify(tokenK2)).subject, 'user-1');
    assert.equal(calls, 2);
  });
});

describe('token cache', () => {
  it('drops expired entries and evicts the least recently used beyond its bound', () => {
    const cache = createTokenCache<{ expiresAt: number }>(2);
    cache.set('a', { expiresAt: 100 });
    cache.set('b', { expiresAt: 100 });
    assert.ok(cache.get('a', 50)); // a is now most recent
    cache.set('c', { expiresAt: 100 });
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b', 50), undefined);
    assert.ok(cache.get('a', 50));
    assert.equal(cache.get('a', 100), undefined); // expired
    assert.equal(cache.size, 1);
  });
});
