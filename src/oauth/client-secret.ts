/**
 * Client secrets at rest (RFC 6819 §5.1.4.1.3): the adapter stores only a SHA-256 digest of a
 * confidential client's secret, and client authentication compares digests in constant time.
 *
 * A plain hash is enough here because every secret is 512 random bits from oidc-provider's
 * `secretFactory` — there is nothing to brute-force, unlike a password. The price, which we accept,
 * is that nothing may need the secret itself: `client_secret_jwt` (HMAC with the secret) and HS*
 * algorithms are switched off in the provider configuration, and RFC 7592 client reads are not offered.
 * This is the extension point oidc-provider's maintainer names for hashed secrets (Client
 * `compareClientSecret`, panva/node-oidc-provider#631).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256:';

export function hashClientSecret(secret: string): string {
  return `${PREFIX}${digest(secret)}`;
}

export function isHashedClientSecret(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** Constant-time check of a presented secret against the stored digest. */
export function clientSecretMatches(stored: string | undefined, presented: string): boolean {
  if (!isHashedClientSecret(stored)) return false;
  const expected = Buffer.from(stored.slice(PREFIX.length), 'base64url');
  const actual = Buffer.from(digest(presented), 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}
