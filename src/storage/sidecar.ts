/**
 * Conventions for what is stored beside oidc-provider's payloads, shared by the parts that read rows
 * directly (the adapter, the CLI, the resource server). Kept in storage/ because it describes stored
 * rows, and every part may import storage/.
 *
 *  - Bearer-secret ids (tokens, codes, cookie values) are stored as SHA-256/base64url digests, so a
 *    leaked database yields nothing usable (`oauth/adapter.ts` hashes them on the way in).
 *  - `SIDECAR` is a payload field oidc-provider never sees (the adapter strips it on read): our own
 *    facts about a row, such as "remember my decision" on a Grant or the role of an operator-registered
 *    machine client on a Client. A dynamically registered client cannot set it: oidc-provider only
 *    persists metadata it knows.
 */
import { hash } from 'node:crypto';
import type { Role } from '../access/scopes.ts';
import type { OidcPayload } from './types.ts';

export const SIDECAR = 'sekisho';

/** SHA-256/base64url of a bearer secret: its stored id, and the key it is cached under in memory. */
export function hashTokenId(value: string): string {
  // The one-shot form: no Hash object per call (≈ half the cost of createHash().update().digest()).
  return hash('sha256', value, 'base64url');
}

/** Sidecar of a Client row an operator registered (`sekisho clients add`). */
export interface ClientSidecar {
  /** Registered by an operator: never expires for being idle. */
  readonly operator: true;
  /** Set for machine clients (client credentials): the role their service identity has. */
  readonly serviceRole?: Role;
}

export function clientSidecar(payload: OidcPayload | undefined): ClientSidecar | undefined {
  const sidecar = payload?.[SIDECAR] as Partial<ClientSidecar> | undefined;
  return sidecar?.operator === true ? (sidecar as ClientSidecar) : undefined;
}
