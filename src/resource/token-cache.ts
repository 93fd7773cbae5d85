/**
 * A small bounded cache of verified access tokens, so a client that sends the same token on every
 * request pays for the ECDSA signature check once. Keys are SHA-256 digests of the token (the token
 * itself is never held as a map key); entries leave when the token expires or when the cache is full
 * (least recently used first — a Map keeps insertion order, and a hit re-inserts the entry).
 *
 * Only the signature/claims verdict is cached. Grant liveness (revocation) and the user record are
 * checked on every request by the caller, so a revoked grant is refused on its very next request.
 */
import { hashTokenId } from '../storage/sidecar.ts';

export interface TokenCache<V extends { readonly expiresAt: number }> {
  get(token: string, nowSeconds: number): V | undefined;
  set(token: string, value: V): void;
  delete(token: string): void;
  /** Drops every entry whose value matches (a revoked grant, a removed user); returns how many. */
  deleteWhere(predicate: (value: V) => boolean): number;
  readonly size: number;
}

/** The key a token is cached under: the same digest the store keeps for token ids. */
export const tokenDigest: (token: string) => string = hashTokenId;

export function createTokenCache<V extends { readonly expiresAt: number }>(
  maxEntries: number,
): TokenCache<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError('maxEntries must be ≥ 0');
  const entries = new Map<string, V>();
  return {
    get(token, nowSeconds) {
      if (maxEntries === 0) return undefined;
      const key = tokenDigest(token);
      const hit = entries.get(key);
      if (hit === undefined) return undefined;
      entries.delete(key);
      if (hit.expiresAt <= nowSeconds) return undefined;
      entries.set(key, hit);
      return hit;
    },
    set(token, value) {
      if (maxEntries === 0) return;
      const key = tokenDigest(token);
      entries.delete(key);
      entries.set(key, value);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    delete(token) {
      entries.delete(tokenDigest(token));
    },
    deleteWhere(predicate) {
      let removed = 0;
      for (const [key, value] of entries) {
        if (predicate(value)) {
          entries.delete(key);
          removed++;
        }
      }
      return removed;
    },
    get size() {
      return entries.size;
    },
  };
}
