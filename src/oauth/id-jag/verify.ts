/**
 * Verifies an Identity Assertion JWT Authorization Grant (ID-JAG; IETF
 * draft-ietf-oauth-identity-assertion-authz-grant §"Access Token Request", MCP ext-auth
 * "Enterprise-Managed Authorization") presented with the RFC 7523 jwt-bearer grant. Every rule is a
 * refusal with its own description, in this order (cheap and key-free checks first):
 *
 *  - a compact JWS of bounded size, header `typ` = `oauth-id-jag+jwt` (RFC 8725 §3.11: explicit
 *    typing, so an ID token or an access token from the same IdP cannot be replayed as a grant);
 *  - `alg` from an asymmetric allow-list: `none` and HMAC (HS256 keyed with a public key — the
 *    classic confusion) are refused before any key is looked at;
 *  - `iss` names a configured IdP exactly (no normalisation: a trailing slash is another issuer),
 *    and the authenticated client is one that IdP's entry allows;
 *  - signature with that IdP's keys (its `jwks_uri`, fetched and cached by jose with a cool-down so
 *    unknown `kid`s cannot storm it; or inline `jwks`);
 *  - `aud` = our issuer (RFC 7523 §3), `exp`/`iat` with 30 s of skew, a lifetime of at most
 *    MAX_ASSERTION_LIFETIME_SECONDS (ID-JAGs are short-lived by design), `sub`, `jti`, `client_id`;
 *  - `client_id` = the client that authenticated at the token endpoint;
 *  - `resource`, when asserted, = the MCP endpoint (the only resource we protect).
 *
 * The `jti` single-use check is not here: the grant records it only after everything else passed, so
 * a refused request never uses up an assertion (grant.ts).
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { EnterpriseIdp } from '../../config/config.ts';

export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** What `authorization_grant_profiles_supported` advertises (MCP ext-auth). */
export const ID_JAG_GRANT_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
/** Asymmetric only: an IdP signs, we verify with its public keys. */
export const ID_JAG_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
/** Longest `exp − now` accepted; the draft's examples use 5 minutes. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;
export const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_ASSERTION_LENGTH = 16 * 1024;
const MAX_CLAIM_LENGTH = 512;

export type IdJagErrorCode = 'invalid_request' | 'invalid_grant' | 'unauthorized_client' | 'invalid_target';

/** A refused assertion; `message` is safe to send as `error_description` (never echoes the token). */
export class IdJagError extends Error {
  override readonly name = 'IdJagError';
  readonly code: IdJagErrorCode;
  constructor(code: IdJagErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface VerifiedIdJag {
  readonly idp: EnterpriseIdp;
  readonly subject: string;
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** The `scope` claim split, or undefined when the IdP asserted none. */
  readonly scopes: readonly string[] | undefined;
  /** Profile claims worth keeping with the link (never the assertion itself). */
  readonly profile: Readonly<Record<string, string | boolean>>;
}

export interface IdJagVerifierOptions {
  /** Our issuer: the assertion's required `aud`. */
  readonly issuer: string;
  /** The MCP endpoint: the only `resource` an assertion may name. */
  readonly resource: string;
  readonly idps: readonly EnterpriseIdp[];
  readonly now?: () => number;
}

export interface IdJagVerifier {
  verify(assertion: unknown, clientId: string): Promise<VerifiedIdJag>;
}

const PROFILE_CLAIMS = ['email', 'email_verified', 'name', 'preferred_username'] as const;

export function createIdJagVerifier(opts: IdJagVerifierOptions): IdJagVerifier {
  const now = opts.now ?? Date.now;
  const keySets = new Map<string, JWTVerifyGetKey>(
    opts.idps.map((idp) => [
      idp.issuer,
      idp.jwksUri !== undefined
        ? createRemoteJWKSet(new URL(idp.jwksUri), { timeoutDuration: 5_000, cooldownDuration: 30_000 })
        : createLocalJWKSet({ keys: idp.jwks!.keys.map((k) => ({ ...k })) }),
    ]),
  );
  const byIssuer = new Map(opts.idps.map((idp) => [idp.issuer, idp]));

  return {
    async verify(assertion, clientId) {
      if (typeof assertion !== 'string' || assertion === '') {
        throw new IdJagError('invalid_request', 'the assertion parameter is required');
      }
      if (assertion.length > MAX_ASSERTION_LENGTH || assertion.split('.').length !== 3) {
        throw new IdJagError('invalid_grant', 'the assertion is not a signed JWT');
      }
      let header: ReturnType<typeof decodeProtectedHeader>;
      let unverified: JWTPayload;
      try {
        header = decodeProtectedHeader(assertion);
        unverified = decodeJwt(assertion);
      } catch {
        throw new IdJagError('invalid_grant', 'the assertion is not a signed JWT');
      }
      if (normaliseTyp(header.typ) !== ID_JAG_TYP) {
        throw new IdJagError('invalid_grant', `the assertion is not an ID-JAG (typ must be ${ID_JAG_TYP})`);
      }
      if (!ID_JAG_ALGORITHMS.includes(header.alg as (typeof ID_JAG_ALGORITHMS)[number])) {
        throw new IdJagError(
          'invalid_grant',
          `the assertion must be signed with one of ${ID_JAG_ALGORITHMS.join(', ')}`,
        );
      }
      const idp = typeof unverified.iss === 'string' ? byIssuer.get(unverified.iss) : undefined;
      if (!idp) {
        throw new IdJagError('invalid_grant', 'the assertion was not issued by a trusted identity provider');
      }
      if (!idp.clients.includes(clientId)) {
        throw new IdJagError(
          'unauthorized_client',
          'this client may not present assertions from that identity provider',
        );
      }
      const nowMs = now();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(assertion, keySets.get(idp.issuer)!, {
          algorithms: [...ID_JAG_ALGORITHMS],
          typ: ID_JAG_TYP,
          issuer: idp.issuer,
          audience: opts.issuer,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          maxTokenAge: MAX_ASSERTION_LIFETIME_SECONDS,
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
          currentDate: new Date(nowMs),
        }));
      } catch (error) {
        throw new IdJagError('invalid_grant', describe(error));
      }
      const nowSeconds = Math.floor(nowMs / 1000);
      const exp = payload.exp!;
      if (exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
        throw new IdJagError(
          'invalid_grant',
          `the assertion lives too long (at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds)`,
        );
      }
      if (payload.client_id !== clientId) {
        throw new IdJagError('invalid_grant', 'the assertion was issued for another client (client_id)');
      }
      const subject = boundedString(payload.sub);
      if (!subject) throw new IdJagError('invalid_grant', 'the assertion has no valid sub');
      const jti = boundedString(payload.jti);
      if (!jti) throw new IdJagError('invalid_grant', 'the assertion has no valid jti');
      if (payload.resource !== undefined && payload.resource !== opts.resource) {
        throw new IdJagError(
          'invalid_grant',
          `the assertion is for another resource; this server is ${opts.resource}`,
        );
      }
      if (payload.scope !== undefined && typeof payload.scope !== 'string') {
        throw new IdJagError('invalid_grant', 'the assertion has an invalid scope claim');
      }
      return Object.freeze({
        idp,
        subject,
        jti,
        expiresAt: exp,
        scopes: payload.scope === undefined ? undefined : Object.freeze(splitScope(payload.scope as string)),
        profile: Object.freeze(profileOf(payload)),
      });
    },
  };
}

/** RFC 7515 §4.1.9: `typ` is a media type; `application/` may be omitted and case does not matter. */
function normaliseTyp(typ: unknown): string | undefined {
  if (typeof typ !== 'string') return undefined;
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function boundedString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_CLAIM_LENGTH ? value : undefined;
}

function splitScope(scope: string): string[] {
  return [...new Set(scope.split(' ').filter(Boolean))];
}

function profileOf(payload: JWTPayload): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const claim of PROFILE_CLAIMS) {
    const value = payload[claim];
    if (typeof value === 'boolean' || (typeof value === 'string' && value.length <= 254)) out[claim] = value;
  }
  return out;
}

/** A short reason for `error_description`: no token content, no key material. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) {
    // jose reports an `iat` older than maxTokenAge as expiry too; say which.
    return error.claim === 'iat'
      ? `the assertion was issued too long ago (at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds; iat)`
      : 'the assertion has expired';
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return 'the assertion is for another audience (aud must be this authorization server)';
      case 'iat':
        return 'the assertion was issued too long ago or in the future (iat)';
      case 'nbf':
        return 'the assertion is not valid yet';
      case 'typ':
        return `the assertion is not an ID-JAG (typ must be ${ID_JAG_TYP})`;
      default:
        return `the assertion is missing or has an invalid ${error.claim} claim`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return 'the assertion uses an algorithm this server does not accept';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the assertion signature is invalid';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return 'the assertion was signed with a key the identity provider does not publish';
  // A timeout, an unreadable key set, or no answer at all (the fetch itself failed: not a JOSE error).
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    !(error instanceof errors.JOSEError)
  )
    return 'the identity provider’s keys could not be fetched; try again later';
  return 'the assertion is invalid';
}
