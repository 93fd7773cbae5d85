/**
 * Token signing keys: generated on first start, stored through the KeyStore, rotated with overlap.
 *
 * oidc-provider takes its keys as a JWKS of *private* JWKs (`jwks` configuration) and signs with the
 * first key that fits the algorithm: its keystore filters candidates and sorts them by a score that
 * is equal for keys of the same alg/use, and Array#sort is stable, so configuration order decides
 * (node_modules/oidc-provider/lib/helpers/keystore.js, `[filter]`). We therefore put the active key
 * first and the rotated-out keys after it: they still verify (and are published in /jwks, RFC 7517)
 * until the overlap ends, so tokens signed before a rotation stay valid (RFC 9068 §4 consumers
 * verify by `kid`).
 *
 * Keys are ES256 (P-256; RFC 7518 §3.4) — what the resource server accepts — with `kid` = the RFC
 * 7638 JWK thumbprint. Nothing here depends on oidc-provider.
 *
 * Rotation writes to the database; every running server re-reads the keys when the rotation is
 * announced (invalidation bus, Redis across instances) and at the latest every
 * SEKISHO_KEY_CHECK_SECONDS, then signs with the new key (`AuthorizationServer.reloadKeys`). The old
 * key stays published for the overlap, so tokens signed with it stay valid everywhere.
 */

import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Audit } from '../audit/audit.ts';
import type { Config } from '../config/config.ts';
import type { KeyStore, SigningKeyRecord } from '../storage/types.ts';

export const SIGNING_ALG = 'ES256';

/** A private signing JWK as oidc-provider wants it (kty EC, crv P-256, x, y, d, kid, alg, use). */
export type PrivateSigningJwk = JWK & { kid: string; alg: string; use: 'sig'; d: string };

export interface SigningKeys {
  /** The key new tokens are signed with. */
  readonly active: PrivateSigningJwk;
  /** For oidc-provider's `jwks` option: the active key first, then rotated keys still in overlap. */
  readonly jwks: { readonly keys: readonly PrivateSigningJwk[] };
  /** The same keys without private parts (what /jwks publishes; what a resource server needs). */
  readonly publicJwks: { readonly keys: readonly JWK[] };
}

/** The overlap actually used: never shorter than an access token lives, so none outlives its key. */
export function effectiveOverlapSeconds(
  config: Pick<Config, 'keyOverlapSeconds' | 'accessTokenTtlSeconds'>,
): number {
  return Math.max(config.keyOverlapSeconds, config.accessTokenTtlSeconds + 60);
}

export async function generateSigningKey(now: number = Date.now()): Promise<SigningKeyRecord> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const privateJwk: PrivateSigningJwk = { ...jwk, kid, alg: SIGNING_ALG, use: 'sig', d: jwk.d! };
  return { kid, privateJwk, createdAt: now, rotatedAt: undefined };
}

/**
 * The keys to sign and publish with. Creates the first key when there is none. Rotated keys older
 * than the overlap are dropped from the store (they can no longer verify anything still valid).
 */
export async function loadSigningKeys(
  store: KeyStore,
  opts: { overlapSeconds: number; now?: () => number },
): Promise<SigningKeys> {
  const now = opts.now ?? Date.now;
  let keys = await store.listKeys();
  if (!keys.some((k) => k.rotatedAt === undefined)) {
    // Only if still none is active, atomically: instances starting together on an empty database all
    // re-read the one key that won, so they sign — and derive cookie and CSRF keys — alike.
    await store.ensureActiveKey(await generateSigningKey(now()));
    keys = await store.listKeys();
  }
  const cutoff = now() - opts.overlapSeconds * 1000;
  await store.pruneKeys(cutoff);
  const active = keys.find((k) => k.rotatedAt === undefined)!;
  const retired = keys
    .filter((k) => k.rotatedAt !== undefined && k.rotatedAt >= cutoff)
    .sort((a, b) => b.rotatedAt! - a.rotatedAt!);
  const ordered = [active, ...retired].map(toSigningJwk);
  return {
    active: ordered[0]!,
    jwks: { keys: ordered },
    publicJwks: { keys: ordered.map(toPublicJwk) },
  };
}

/**
 * Makes a new active key; the previous one stays published for `overlapSeconds`. Returns the new
 * key id, the one it replaced and how many expired keys were pruned.
 */
export async function rotateSigningKeys(
  store: KeyStore,
  overlapSeconds: number,
  audit: Audit,
  now: () => number = Date.now,
): Promise<{ kid: string; previousKid: string | undefined; pruned: number }> {
  const previous = (await store.listKeys()).find((k) => k.rotatedAt === undefined);
  const next = await generateSigningKey(now());
  await store.rotateKeys(next, now());
  const pruned = await store.pruneKeys(now() - overlapSeconds * 1000);
  await audit.record({ type: 'key.rotated', details: { kid: next.kid, previousKid: previous?.kid, pruned } });
  return { kid: next.kid, previousKid: previous?.kid, pruned };
}

/** Strips every private member (EC `d`; RSA primes, should one ever appear). */
export function toPublicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = jwk;
  return pub;
}

function toSigningJwk(record: SigningKeyRecord): PrivateSigningJwk {
  const jwk = record.privateJwk as JWK;
  return { ...jwk, kid: record.kid, alg: jwk.alg ?? SIGNING_ALG, use: 'sig', d: String(jwk.d) };
}
