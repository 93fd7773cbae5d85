/**
 * Every `WWW-Authenticate` challenge /mcp sends is built here, so 401 and 403 answers cannot drift
 * apart. The shapes follow RFC 6750 §3 and MCP authorization:
 *
 *  - no credentials          → 401 `Bearer resource_metadata="…", scope="…"` (RFC 6750 §3.1: no error
 *                               code when the request carried no authentication information);
 *  - bad or revoked token    → 401 with `error="invalid_token"` as well;
 *  - token lacks scopes      → 403 `error="insufficient_scope"` naming ALL scopes the operation needs
 *                               (MCP authorization "Scope challenge handling", SEP-835/SEP-2350);
 *  - token in the query etc. → 400 `error="invalid_request"` (RFC 6750 §3.1).
 *
 * A request that used DPoP (RFC 9449 §7.1) — or presented a DPoP-bound token as Bearer — is answered
 * with the `DPoP` scheme instead, listing the accepted proof algorithms (`algs`); a bad proof is
 * `invalid_dpop_proof`, a proof without a recent server nonce (when nonces are on) `use_dpop_nonce`
 * with a `DPoP-Nonce` header to retry with (RFC 9449 §9). Everyone else keeps seeing the plain Bearer challenge, so existing clients'
 * header parsing is untouched.
 *
 * `resource_metadata` (RFC 9728 §5.1) always points at the path-suffixed PRM document so clients find
 * the authorization server without guessing.
 */
import type { Response } from 'express';

export type BearerError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

export interface DpopScheme {
  readonly scheme: 'DPoP';
  readonly algs: readonly string[];
}

export interface Challenge {
  readonly status: 400 | 401 | 403;
  /** Omitted when the request carried no credentials at all. */
  readonly error?: BearerError;
  /** Safe, human-readable reason; never contains the token. */
  readonly description?: string;
  readonly scopes: readonly string[];
  /** Answer with the DPoP scheme (the request used DPoP or its token is DPoP-bound). */
  readonly dpop?: DpopScheme;
}

export function noCredentials(scopes: readonly string[], description?: string): Challenge {
  return description === undefined ? { status: 401, scopes } : { status: 401, scopes, description };
}

export function invalidToken(description: string, scopes: readonly string[]): Challenge {
  return { status: 401, error: 'invalid_token', description, scopes };
}

export function insufficientScope(scopes: readonly string[], description: string): Challenge {
  return { status: 403, error: 'insufficient_scope', description, scopes };
}

export function invalidDpopProof(description: string, scopes: readonly string[]): Challenge {
  return { status: 401, error: 'invalid_dpop_proof', description, scopes };
}

/** RFC 9449 §9: the proof lacks a (recent) server nonce; the answer carries `DPoP-Nonce`. */
export function useDpopNonce(description: string, scopes: readonly string[]): Challenge {
  return { status: 401, error: 'use_dpop_nonce', description, scopes };
}

export function invalidRequest(description: string, scopes: readonly string[]): Challenge {
  return { status: 400, error: 'invalid_request', description, scopes };
}

/** The header value. Parameter values are quoted strings; characters RFC 6750 forbids are dropped. */
export function wwwAuthenticate(challenge: Challenge, resourceMetadataUrl: string): string {
  const params: [string, string][] = [];
  if (challenge.error) params.push(['error', challenge.error]);
  if (challenge.error && challenge.description) params.push(['error_description', challenge.description]);
  if (challenge.scopes.length > 0) params.push(['scope', challenge.scopes.join(' ')]);
  params.push(['resource_metadata', resourceMetadataUrl]);
  if (challenge.dpop) params.push(['algs', challenge.dpop.algs.join(' ')]);
  const scheme = challenge.dpop ? 'DPoP' : 'Bearer';
  return `${scheme} ${params.map(([k, v]) => `${k}="${quotable(v)}"`).join(', ')}`;
}

/** Sends the challenge: the header plus an OAuth-style JSON body (the same shape the SDK's gate uses). */
export function sendChallenge(res: Response, challenge: Challenge, resourceMetadataUrl: string): void {
  res.setHeader('WWW-Authenticate', wwwAuthenticate(challenge, resourceMetadataUrl));
  res.setHeader('Cache-Control', 'no-store');
  res.status(challenge.status).json({
    error: challenge.error ?? 'unauthorized',
    error_description:
      challenge.description ?? 'Authorization required: sign in with OAuth to use this server.',
  });
}

/** RFC 6750 §3: error_description and scope use %x20-21 / %x23-5B / %x5D-7E (no `"` or `\`). */
function quotable(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
}
