/** DPoP proofs (RFC 9449 §4.2) as a client makes them, with every claim overridable for abuse tests. */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import { modernEnvelope } from './mcp-http.ts';
import type { KeyPair } from './operator-clients.ts';

export interface ProofClaims {
  readonly htm: string;
  readonly htu: string;
  /** The access token the proof goes with (sets `ath`). */
  readonly accessToken?: string;
  /** The request body (sets `content_digest`, the MCP profile's claim). */
  readonly body?: string;
  readonly iat?: number;
  readonly jti?: string;
  /** A server-provided nonce (RFC 9449 §8, §9). */
  readonly nonce?: string;
  /** Sign with this key but put another public key in the header (key confusion). */
  readonly headerJwkFrom?: KeyPair;
}

export function dpopProof(key: KeyPair, claims: ProofClaims): Promise<string> {
  const payload: Record<string, unknown> = { htm: claims.htm, htu: claims.htu };
  if (claims.accessToken !== undefined) payload.ath = sha256(claims.accessToken, 'base64url');
  if (claims.nonce !== undefined) payload.nonce = claims.nonce;
  if (claims.body !== undefined) payload.content_digest = `sha-256=:${sha256(claims.body, 'base64')}:`;
  const { kid: _kid, alg: _alg, use: _use, ...jwk } = (claims.headerJwkFrom ?? key).publicJwk;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey);
}

export function thumbprint(key: KeyPair): Promise<string> {
  const { kid: _kid, alg: _alg, use: _use, ...jwk } = key.publicJwk;
  return calculateJwkThumbprint(jwk, 'sha256');
}

function sha256(value: string, encoding: 'base64' | 'base64url'): string {
  return createHash('sha256').update(value).digest(encoding);
}

/** A 2026-07-28 `tools/call` of auth_status (served by the fast lane) and its headers, for DPoP tests. */
export const AUTH_STATUS_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'auth_status', arguments: {}, _meta: modernEnvelope() },
});
export const AUTH_STATUS_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'auth_status',
};
