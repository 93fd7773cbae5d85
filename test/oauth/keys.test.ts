import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { calculateJwkThumbprint, createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { NO_AUDIT } from '../../src/audit/audit.ts';
import {
  effectiveOverlapSeconds,
  generateSigningKey,
  loadSigningKeys,
  rotateSigningKeys,
} from '../../src/oauth/keys.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { Storage } from '../../src/storage/types.ts';

const T0 = Date.UTC(2030, 0, 1);
const DAY = 86_400;

describe('signing keys', () => {
  let t = T0;
  let storage: Storage;
  beforeEach(() => {
    t = T0;
    storage = openSqliteStorage({ path: ':memory:' });
  });
  const now = () => t;

  it('generates an ES256 P-256 key whose kid is its RFC 7638 thumbprint', async () => {
    const key = await generateSigningKey(T0);
    const jwk = key.privateJwk;
    assert.equal(jwk.kty, 'EC');
    assert.equal(jwk.crv, 'P-256');
    assert.equal(jwk.alg, 'ES256');
    assert.equal(jwk.use, 'sig');
    assert.equal(typeof jwk.d, 'string');
    assert.equal(
      key.kid,
      await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } as never),
    );
    assert.equal(jwk.kid, key.kid);
    assert.deepEqual([key.createdAt, key.rotatedAt], [T0, undefined]);
  });

  it('creates the first key once and returns it on every later load', async () => {
    const first = await loadSigningKeys(storage, { overlapSeconds: DAY, now });
    const second = await loadSigningKeys(storage, { overlapSeconds: DAY, now });
    assert.equal(first.jwks.keys.length, 1);
    assert.equal(second.active.kid, first.active.kid);
    assert.equal((await storage.listKeys()).length, 1);
    assert.equal('d' in first.publicJwks.keys[0]!, false);
    assert.deepEqual(Object.keys(first.publicJwks.keys[0]!).sort(), [
      'alg',
      'crv',
      'kid',
      'kty',
      'use',
      'x',
      'y',
    ]);
  });

  it('rotation: new key first and signing, old key still published until the overlap ends', async () => {
    const before = await loadSigningKeys(storage, { overlapSeconds: DAY, now });
    const oldToken = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'ES256', kid: before.active.kid })
      .sign(await importJWK(before.active, 'ES256'));

    t += 1000;
    const rotated = await rotateSigningKeys(storage, DAY, NO_AUDIT, now);
    assert.equal(rotated.previousKid, before.active.kid);
    assert.notEqual(rotated.kid, before.active.kid);

    t += DAY * 1000 - 1000; // still inside the overlap
    const during = await loadSigningKeys(storage, { overlapSeconds: DAY, now });
    assert.deepEqual(
      during.jwks.keys.map((k) => k.kid),
      [rotated.kid, before.active.kid],
    );
    assert.equal(during.active.kid, rotated.kid);
    const verify = createLocalJWKSet({ keys: [...during.publicJwks.keys] });
    assert.equal((await jwtVerify(oldToken, verify)).payload.sub, 'u', 'tokens from before still verify');

    t += 1001; // overlap over
    const after = await loadSigningKeys(storage, { overlapSeconds: DAY, now });
    assert.deepEqual(
      after.jwks.keys.map((k) => k.kid),
      [rotated.kid],
    );
    assert.deepEqual(
      (await storage.listKeys()).map((k) => k.kid),
      [rotated.kid],
      'pruned from the store',
    );
    await assert.rejects(jwtVerify(oldToken, createLocalJWKSet({ keys: [...after.publicJwks.keys] })));
  });

  it('the overlap is never shorter than an access token lives', () => {
    assert.equal(effectiveOverlapSeconds({ keyOverlapSeconds: DAY, accessTokenTtlSeconds: 600 }), DAY);
    assert.equal(effectiveOverlapSeconds({ keyOverlapSeconds: 600, accessTokenTtlSeconds: 3600 }), 3660);
  });
});
