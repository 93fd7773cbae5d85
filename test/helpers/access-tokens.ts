/**
 * Test-only access-token forgery kit: an ES256 key pair with a JWKS, and a `mint` that signs RFC 9068
 * access tokens with any claims or header the test wants (including the broken ones).
 */
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWK, SignJWT } from 'jose';

export interface TestKeys {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly jwks: JSONWebKeySet;
}

export async function testKeys(kid = 'test-key-1'): Promise<TestKeys> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, publicJwk, jwks: { keys: [publicJwk] } };
}

export interface MintOptions {
  readonly issuer: string;
  readonly audience: string | string[];
  readonly sub?: string;
  readonly clientId?: string;
  readonly scope?: string;
  readonly gid?: string;
  /** Seconds from now; negative for an expired token. Default 600. */
  readonly expiresIn?: number;
  readonly notBefore?: number;
  readonly typ?: string;
  readonly omit?: readonly string[];
  readonly kid?: string;
}

export async function mint(keys: TestKeys, o: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    sub: o.sub ?? 'user-1',
    client_id: o.clientId ?? 'client-1',
    scope: o.scope ?? 'mcp:tools mcp:data',
    gid: o.gid ?? 'grant-1',
    jti: `jti-${Math.random().toString(36).slice(2)}`,
  };
  for (const k of o.omit ?? []) delete claims[k];
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: o.typ ?? 'at+jwt', kid: o.kid ?? keys.kid })
    .setIssuer(o.issuer)
    .setAudience(o.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (o.expiresIn ?? 600));
  if (o.notBefore !== undefined) jwt.setNotBefore(now + o.notBefore);
  return jwt.sign(keys.privateKey);
}

/** A JWS with arbitrary header and payload and a chosen signature (for alg-confusion tests). */
export function rawJws(header: object, payload: object, signature = ''): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64(header)}.${b64(payload)}.${signature}`;
}
