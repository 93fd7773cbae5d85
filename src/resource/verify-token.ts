/**
 * Access-token verification for /mcp (OAuth 2.1 §5.2, RFC 9068 JWT access tokens, RFC 8707 audience).
 *
 * Our own authorization server signs the tokens, in the same process, so verification is local:
 *  - JWS signature with the AS's published keys, re-read when a token names an unknown `kid`
 *    (key rotation by `sekisho keys rotate` or another instance), throttled so garbage `kid`s cannot
 *    turn into a storm of key reloads;
 *  - algorithm allow-list: ES256 only. `none`, HS256 (e.g. signed with our public key as the HMAC
 *    secret — the classic RS/HS confusion) and every other algorithm are refused before any key is used;
 *  - header `typ` = `at+jwt` (RFC 9068 §2.1, §4: reject other JWTs such as ID tokens);
 *  - `iss` = our issuer exactly; `aud` contains the canonical MCP URL (RFC 8707, MCP: MUST);
 *  - `exp` / `nbf` with a small clock skew; `sub`, `client_id`, `scope`, `jti` present; `gid` (the
 *    grant) on every user token — a token without one is a service token (client credentials), whose
 *    `sub` must then be its own `client_id` (RFC 9068 §2.2);
 *  - `cnf.jkt` (RFC 9449 §6.1) is passed on: such a token is DPoP-bound and the gate demands its proof.
 *
 * Verdicts are cached by token digest until the token expires (token-cache.ts); revocation is not
 * this module's business — the gate checks the grant on every request.
 */
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import type { SignedInCaller } from '../access/policy.ts';
import { createTokenCache } from './token-cache.ts';

/** Returns the authorization server's current public signing keys. */
export type KeySource = () => Promise<JSONWebKeySet> | JSONWebKeySet;

export interface VerifiedAccessToken {
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** The user's grant; undefined for a service token (client credentials), which has no user. */
  readonly grantId: string | undefined;
  readonly tokenId: string;
  /** JWK SHA-256 thumbprint the token is bound to (DPoP), if any. */
  readonly jkt: string | undefined;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly issuedAt: number | undefined;
  /**
   * The caller, when the token itself says everything about it (an external authorization server's
   * token: no local grant or account to look up). Undefined for our own tokens.
   */
  readonly caller?: SignedInCaller;
}

/** The token is not acceptable. `message` is safe to send to the client as `error_description`. */
/** Why a token was refused, as a short fixed word (the metrics label; never client input). */
export type RejectionReason =
  | 'malformed'
  | 'expired'
  | 'audience'
  | 'issuer'
  | 'not_yet_valid'
  | 'type'
  | 'algorithm'
  | 'signature'
  | 'unknown_key'
  | 'claims'
  | 'revoked'
  | 'mismatch'
  | 'user_removed'
  | 'user_disabled'
  | 'service_removed'
  | 'invalid';

export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
  readonly reason: RejectionReason;
  constructor(message: string, reason: RejectionReason = 'claims') {
    super(message);
    this.reason = reason;
  }
}

export interface TokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly keys: KeySource;
  /** Seconds of clock skew tolerated on exp/nbf/iat. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** Verified tokens kept in memory. Default 10 000; 0 disables the cache. */
  readonly cacheSize?: number;
  /** Minimum time between key reloads caused by an unknown `kid`. Default 5 000 ms. */
  readonly keyRefreshMinIntervalMs?: number;
  readonly now?: () => number;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedAccessToken>;
  /** Forget a cached verdict (after its grant was found revoked). */
  forget(token: string): void;
  /** Forget every cached verdict of a grant or of a subject (invalidation bus: revoked, user removed). */
  forgetWhere(match: { readonly grantId?: string; readonly subject?: string }): number;
  /** Re-read the key set now, unthrottled (invalidation bus: keys rotated). */
  reloadKeys(): Promise<void>;
  readonly stats: { hits: number; misses: number; keyReloads: number };
}

export const ACCESS_TOKEN_ALGORITHMS = ['ES256'] as const;
const REQUIRED_CLAIMS = ['sub', 'client_id', 'jti', 'exp', 'iss', 'aud'];
/** RFC 6750 §2.1 b64token — anything else in the header is malformed before we even parse it. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 8192;

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const tolerance = opts.clockToleranceSeconds ?? 30;
  const minReload = opts.keyRefreshMinIntervalMs ?? 5_000;
  const now = opts.now ?? Date.now;
  const cache = createTokenCache<VerifiedAccessToken>(opts.cacheSize ?? 10_000);
  const stats = { hits: 0, misses: 0, keyReloads: 0 };

  let jwks: ReturnType<typeof createLocalJWKSet> | undefined;
  let loadedAt = 0;
  let loading: Promise<void> | undefined;
  const reload = () => {
    loading ??= (async () => {
      try {
        const set = await opts.keys();
        jwks = createLocalJWKSet({ keys: set.keys.filter((k) => !('d' in k)) });
        loadedAt = now();
        stats.keyReloads++;
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  };

  const getKey = async (header: JWTHeaderParameters) => {
    if (!jwks) await reload();
    try {
      return await jwks!(header);
    } catch (error) {
      // An unknown kid may be a key the AS rotated in after we loaded the set: reload once, throttled.
      if (!(error instanceof errors.JWKSNoMatchingKey) || now() - loadedAt < minReload) throw error;
      await reload();
      return jwks!(header);
    }
  };

  return {
    stats,
    forget: (token) => cache.delete(token),
    forgetWhere: ({ grantId, subject }) =>
      cache.deleteWhere((v) => v.grantId === grantId || v.subject === subject),
    reloadKeys: reload,
    async verify(token) {
      checkTokenShape(token);
      const nowSeconds = Math.floor(now() / 1000);
      const cached = cache.get(token, nowSeconds);
      if (cached) {
        stats.hits++;
        return cached;
      }
      stats.misses++;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms: [...ACCESS_TOKEN_ALGORITHMS],
          typ: 'at+jwt',
          issuer: opts.issuer,
          audience: opts.audience,
          clockTolerance: tolerance,
          requiredClaims: REQUIRED_CLAIMS,
          currentDate: new Date(now()),
        }));
      } catch (error) {
        throw joseRejection(error);
      }
      const verified = toVerified(payload);
      cache.set(token, verified);
      return verified;
    },
  };
}

/** RFC 6750 §2.1: a b64token of sane length; anything else is refused before any work is done. */
export function checkTokenShape(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
    throw new TokenRejectedError('The access token is malformed.', 'malformed');
  }
}

function toVerified(payload: JWTPayload): VerifiedAccessToken {
  const { sub, client_id: clientId, scope, gid, exp, iat, jti, cnf } = payload;
  if (typeof sub !== 'string' || sub === '') throw new TokenRejectedError('The access token has no subject.');
  if (typeof clientId !== 'string' || clientId === '')
    throw new TokenRejectedError('The access token has no client_id.');
  if (typeof scope !== 'string') throw new TokenRejectedError('The access token has no scope.');
  if (gid !== undefined && (typeof gid !== 'string' || gid === ''))
    throw new TokenRejectedError('The access token has an invalid grant.');
  if (gid === undefined && sub !== clientId)
    throw new TokenRejectedError('The access token has no grant (gid).');
  if (typeof jti !== 'string' || jti === '') throw new TokenRejectedError('The access token has no id.');
  if (typeof exp !== 'number') throw new TokenRejectedError('The access token has no expiry.');
  const jkt = (cnf as { jkt?: unknown } | undefined)?.jkt;
  if (cnf !== undefined && (typeof jkt !== 'string' || jkt === ''))
    throw new TokenRejectedError('The access token has a confirmation this server does not support.');
  return Object.freeze({
    subject: sub,
    clientId,
    scopes: Object.freeze(scope.split(' ').filter(Boolean)),
    grantId: gid,
    tokenId: jti,
    jkt: jkt as string | undefined,
    expiresAt: exp,
    issuedAt: typeof iat === 'number' ? iat : undefined,
  });
}

/** A refusal for a jose failure: a short, safe message (no token content, no key material) and its reason word. */
export function joseRejection(error: unknown): TokenRejectedError {
  const [message, reason] = describeJose(error);
  return new TokenRejectedError(message, reason);
}

function describeJose(error: unknown): [string, RejectionReason] {
  if (error instanceof errors.JWTExpired) return ['The access token has expired.', 'expired'];
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return ['The access token was not issued for this resource.', 'audience'];
      case 'iss':
        return ['The access token was issued by another authorization server.', 'issuer'];
      case 'nbf':
        return ['The access token is not valid yet.', 'not_yet_valid'];
      case 'typ':
        return ['The token is not an access token (typ must be at+jwt).', 'type'];
      default:
        return [`The access token is missing or has an invalid ${error.claim} claim.`, 'claims'];
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return ['The access token uses an algorithm this server does not accept.', 'algorithm'];
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return ['The access token signature is invalid.', 'signature'];
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return ['The access token was signed with an unknown key.', 'unknown_key'];
  return ['The access token is invalid.', 'invalid'];
}
