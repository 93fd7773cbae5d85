/**
 * DPoP proofs at /mcp (RFC 9449 §4.3, §7; MCP ext-auth DPoP profile). A DPoP-bound access token
 * (`cnf.jkt`) is accepted only as `Authorization: DPoP <token>` with exactly one `DPoP` header
 * holding a proof that:
 *  - is a JWT with `typ: dpop+jwt`, an asymmetric `alg` from the allow-list, and a public `jwk` in its
 *    header that verifies its signature (no private key members, no `none`, no HMAC);
 *  - says `htm` = this request's method and `htu` = the MCP endpoint (query and fragment ignored);
 *  - was made within ±5 minutes (`iat`; the profile's window) and carries a fresh `jti` — each proof
 *    is accepted once, remembered in the replay cache for the window;
 *  - binds the token: `ath` = base64url(SHA-256(access token));
 *  - binds the body when it says so: a `content_digest` (the MCP profile's claim, RFC 9530 syntax
 *    `sha-256=:<base64>:`) must match the request body. Proofs without it are accepted, so plain RFC
 *    9449 clients work; the one-time `jti` already stops a proof from being used twice;
 *  - is made with the key the token is bound to (JWK SHA-256 thumbprint = `cnf.jkt`).
 *  - carries a recent server nonce, when SEKISHO_DPOP_NONCES asks for them (RFC 9449 §9;
 *    `dpop-nonce.ts`); otherwise the ±5-minute window plus single use is the profile's baseline, and
 *    nonces would cost every client an extra round trip. A nonce refusal does not use up the proof.
 */
import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  errors,
  type JWK,
  jwtVerify,
} from 'jose';
import { DPOP_ALGORITHMS } from '../access/dpop.ts';
import type { ReplayCache } from '../storage/types.ts';
import type { DpopNonces } from './dpop-nonce.ts';

export { DPOP_ALGORITHMS };

/** MCP DPoP profile: servers MUST accept `iat` within ±5 minutes. */
export const DPOP_WINDOW_SECONDS = 300;
const MAX_PROOF_LENGTH = 4096;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** The proof is not acceptable; `message` is safe to send as `error_description`. */
export class DpopProofError extends Error {
  override readonly name: string = 'DpopProofError';
}

export interface DpopCheck {
  readonly proof: string;
  readonly method: string;
  /** The MCP endpoint URL (the public one, not what the Host header says). */
  readonly url: string;
  readonly accessToken: string;
  /** Thumbprint the token is bound to. */
  readonly jkt: string;
  /** The raw request body, when known (for `content_digest`). */
  readonly body?: Buffer;
  readonly replay: ReplayCache;
  /** Server nonces, when required (RFC 9449 §9); undefined = none asked for. */
  readonly nonces?: DpopNonces;
  readonly now?: () => number;
}

/** The proof carries no nonce, or one this server did not hand out recently (RFC 9449 §9). */
export class DpopNonceError extends DpopProofError {
  override readonly name = 'DpopNonceError';
}

/** Verifies the proof; returns its `jti` (already recorded as used). */
export async function verifyDpopProof(check: DpopCheck): Promise<string> {
  const { proof } = check;
  if (proof.length > MAX_PROOF_LENGTH) throw new DpopProofError('The DPoP proof is too large.');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopProofError('The DPoP proof is not a JWT.');
  }
  if (header.typ !== 'dpop+jwt') throw new DpopProofError('The DPoP proof must have typ dpop+jwt.');
  if (!DPOP_ALGORITHMS.includes(header.alg as (typeof DPOP_ALGORITHMS)[number])) {
    throw new DpopProofError(`The DPoP proof must be signed with one of ${DPOP_ALGORITHMS.join(', ')}.`);
  }
  const jwk = header.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== 'object' || PRIVATE_MEMBERS.some((m) => m in jwk)) {
    throw new DpopProofError('The DPoP proof must carry a public key (jwk) in its header.');
  }
  const nowMs = (check.now ?? Date.now)();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...DPOP_ALGORITHMS],
      currentDate: new Date(nowMs),
    }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw new DpopProofError('The DPoP proof signature is invalid.');
    }
    throw new DpopProofError('The DPoP proof could not be verified.');
  }
  const { jti, htm, htu, iat, ath } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > 256)
    throw new DpopProofError('The DPoP proof has no jti.');
  if (htm !== check.method)
    throw new DpopProofError(`The DPoP proof is for another method (htm must be ${check.method}).`);
  if (typeof htu !== 'string' || withoutQuery(htu) !== withoutQuery(check.url)) {
    throw new DpopProofError(`The DPoP proof is for another URL (htu must be ${check.url}).`);
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  if (typeof iat !== 'number' || Math.abs(nowSeconds - iat) > DPOP_WINDOW_SECONDS) {
    throw new DpopProofError('The DPoP proof is too old or from the future (iat must be within 5 minutes).');
  }
  if (ath !== sha256(check.accessToken, 'base64url')) {
    throw new DpopProofError('The DPoP proof is for another access token (ath).');
  }
  const digest = payload.content_digest;
  if (digest !== undefined) {
    if (!check.body || digest !== `sha-256=:${sha256(check.body, 'base64')}:`) {
      throw new DpopProofError('The DPoP proof content_digest does not match the request body.');
    }
  }
  if ((await calculateJwkThumbprint(jwk, 'sha256')) !== check.jkt) {
    throw new DpopProofError('The DPoP proof is signed with another key than the token is bound to.');
  }
  if (check.nonces && !check.nonces.valid(payload.nonce)) {
    throw new DpopNonceError(
      payload.nonce === undefined
        ? 'This server requires a nonce in DPoP proofs: retry with the DPoP-Nonce header value.'
        : 'The DPoP proof nonce is unknown or no longer recent: retry with the DPoP-Nonce header value.',
    );
  }
  // Last: only a proof that passed everything uses up its jti.
  if (!(await check.replay.remember(`dpop:${check.jkt}:${jti}`, 2 * DPOP_WINDOW_SECONDS))) {
    throw new DpopProofError('The DPoP proof was already used (replayed jti).');
  }
  return jti;
}

function withoutQuery(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}

function sha256(value: string | Buffer, encoding: 'base64' | 'base64url'): string {
  return createHash('sha256').update(value).digest(encoding);
}
