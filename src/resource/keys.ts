/**
 * Where the resource server gets the authorization server's public keys: the shared KeyStore, read
 * directly. Every instance (and the `sekisho keys rotate` CLI) writes keys there, so a token signed
 * with a key another process just rotated in verifies here as soon as the verifier re-reads the set
 * on the unknown `kid` — no restart, no HTTP round trip to our own /jwks.
 */
import type { JWK } from 'jose';
import type { KeyStore } from '../storage/types.ts';
import type { KeySource } from './verify-token.ts';

/** Public members only (an allow-list, so no private parameter can ever reach the verifier's set). */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use'] as const;

export function keySourceFromStore(store: Pick<KeyStore, 'listKeys'>): KeySource {
  return async () => ({
    keys: (await store.listKeys()).map((record) => {
      const jwk: JWK = { kid: record.kid };
      for (const member of PUBLIC_MEMBERS) {
        const value = record.privateJwk[member];
        if (typeof value === 'string') (jwk as Record<string, string>)[member] = value;
      }
      return jwk;
    }),
  });
}
