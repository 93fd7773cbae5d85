/**
 * JWT access tokens of an external authorization server, verified locally against its published
 * keys (resource-server-only mode):
 *
 *  - keys from its `jwks_uri` through jose's remote key set: cached (re-read every 10 minutes, the
 *    last set kept while a re-read fails), re-read at once when a token names an unknown `kid` (the
 *    server rotated), but at most once per cooldown so made-up `kid`s cannot make us hammer the
 *    server; every fetch is bounded (fetch-json);
 *  - algorithms: an allow-list of asymmetric ones only — `none` and HS* (a shared secret, or our
 *    confusion of a public key for one) are never accepted, whatever the metadata says;
 *  - header `typ`: `at+jwt` (RFC 9068), or the plain `JWT` / no `typ` many servers still send
 *    (Entra ID, Keycloak); any other type (an ID token marked as such, a logout token, a DPoP proof)
 *    is refused;
 *  - `iss` exactly the configured issuer; `aud` one of the accepted audiences (`<base>/mcp`, plus any
 *    configured extras); `exp` required, `nbf`/`iat` honoured, with a small bounded clock skew.
 *
 * A key set that cannot be fetched is not the token's fault: that surfaces as
 * ExternalIssuerUnavailableError (503), not as a 401 that would send the client to sign in again.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from 'jose';
import { joseRejection, TokenRejectedError } from '../verify-token.ts';
import { ExternalIssuerUnavailableError } from './errors.ts';
import { fetchJson, MAX_ANSWER_BYTES } from './fetch-json.ts';

export interface ExternalJwtOptions {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwksUri: string;
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  readonly timeoutMs: number;
  /** Least time between key-set fetches caused by an unknown `kid`. Default 10 000 ms. */
  readonly cooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again. Default 10 minutes. */
  readonly cacheMaxAgeMs?: number;
  readonly now?: () => number;
}

export interface ExternalJwtCheck {
  (token: string): Promise<JWTPayload & { exp: number }>;
  /** Re-read the key set now. */
  reload(): Promise<void>;
}

const ACCEPTED_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt']);

export function createExternalJwtCheck(opts: ExternalJwtOptions): ExternalJwtCheck {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUri), {
    timeoutDuration: opts.timeoutMs,
    cooldownDuration: opts.cooldownMs ?? 10_000,
    cacheMaxAge: opts.cacheMaxAgeMs ?? 600_000,
    [customFetch]: boundedFetch(opts.timeoutMs),
  });
  const now = opts.now ?? Date.now;
  /**
   * Stale-if-error: when the set is due for its periodic re-read and the issuer does not answer, keep
   * verifying with the keys it last published — an outage of the issuer must not turn every valid
   * token into a 503 after ten minutes. A `kid` missing from that set still needs the issuer (503).
   */
  const keyFor = async (...key: Parameters<typeof jwks>) => {
    try {
      return await jwks(...key);
    } catch (error) {
      const known = jwks.jwks();
      if (!cannotReach(error) || known === undefined) throw error;
      try {
        return await createLocalJWKSet(known)(...key);
      } catch {
        throw error;
      }
    }
  };
  const check = async (token: string) => {
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      const verified = await jwtVerify(token, keyFor, {
        algorithms: [...opts.algorithms],
        issuer: opts.issuer,
        audience: [...opts.audiences],
        clockTolerance: opts.clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(now()),
      });
      payload = verified.payload;
      typ = verified.protectedHeader.typ;
    } catch (error) {
      if (error instanceof ExternalIssuerUnavailableError) throw error;
      if (cannotReach(error)) {
        throw new ExternalIssuerUnavailableError(`the key set at ${opts.jwksUri} could not be read`);
      }
      throw joseRejection(error);
    }
    if (typ !== undefined && !ACCEPTED_TYPES.has(typ.toLowerCase())) {
      throw new TokenRejectedError(`The token is not an access token (typ ${JSON.stringify(typ)}).`);
    }
    return payload as JWTPayload & { exp: number };
  };
  return Object.assign(check, { reload: () => jwks.reload() });
}

/** The key set could not be fetched or read (as opposed to: the token is bad). */
function cannotReach(error: unknown): boolean {
  return (
    error instanceof ExternalIssuerUnavailableError ||
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid
  );
}

/** jose's fetch, bounded like every other request to the external server (size, no redirects). */
function boundedFetch(timeoutMs: number) {
  return async (url: string): Promise<Response> => {
    const answer = await fetchJson(url, { timeoutMs, maxBytes: MAX_ANSWER_BYTES });
    if (answer.status !== 200) {
      throw new ExternalIssuerUnavailableError(
        `${new URL(url).host} answered ${answer.status} for its key set`,
      );
    }
    return Response.json(answer.body);
  };
}

/**
 * JWS compact serialisation: three base64url parts. The signature may be empty so that an unsigned
 * (`alg: none`) token reaches the algorithm check and is refused as such, not taken for opaque.
 */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
