/**
 * Clients an operator registers (`sekisho clients add`), as opposed to clients that register
 * themselves (DCR, metadata documents). Only these may use the grants that act without a consent
 * page: today client credentials (a machine acting as itself, with a role). They are confidential — `client_secret_basic` with a 256-bit secret shown
 * once and stored as a digest, or `private_key_jwt` with a JWKS or a `jwks_uri` — and never expire
 * for being idle. The row is written the way oidc-provider's adapter would write it; oidc-provider
 * validates it again whenever it loads the client.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from '../access/scopes.ts';
import { type ClientSidecar, SIDECAR } from '../storage/sidecar.ts';
import type { OidcStore } from '../storage/types.ts';
import { hashClientSecret } from './client-secret.ts';
import { CLIENT_CREDENTIALS_GRANT } from './grant-types.ts';

export type OperatorAuthMethod = 'client_secret_basic' | 'private_key_jwt';

export interface OperatorClientInput {
  readonly name: string;
  /** A machine client (client credentials) acting with this role. */
  readonly serviceRole: Role;
  readonly auth: OperatorAuthMethod;
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  readonly jwksUri?: string;
}

export interface OperatorClient {
  readonly clientId: string;
  /** Only for client_secret_basic; shown once, stored as a digest. */
  readonly clientSecret?: string;
  readonly grantTypes: readonly string[];
}

/** Signing algorithms accepted for private_key_jwt assertions (the provider's allow-list). */
export const CLIENT_ASSERTION_ALGORITHMS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const;

export class OperatorClientError extends Error {
  override readonly name = 'OperatorClientError';
}

export async function addOperatorClient(
  storage: Pick<OidcStore, 'upsert' | 'find'>,
  input: OperatorClientInput,
): Promise<OperatorClient> {
  const name = input.name.trim();
  if (name === '' || name.length > 100) throw new OperatorClientError('the name must be 1–100 characters');
  const grantTypes = [CLIENT_CREDENTIALS_GRANT];
  const keys: Record<string, unknown> = {};
  if (input.auth === 'private_key_jwt') {
    if ((input.jwks === undefined) === (input.jwksUri === undefined)) {
      throw new OperatorClientError('private_key_jwt needs exactly one of --jwks <file> or --jwks-uri <url>');
    }
    if (input.jwks) keys.jwks = { keys: input.jwks.keys.map(publicOnly) };
    if (input.jwksUri !== undefined) {
      if (URL.parse(input.jwksUri)?.protocol !== 'https:')
        throw new OperatorClientError('--jwks-uri must be https');
      keys.jwks_uri = input.jwksUri;
    }
  } else if (input.jwks || input.jwksUri) {
    throw new OperatorClientError('--jwks and --jwks-uri go with --auth private_key_jwt');
  }
  const clientId = `svc_${randomBytes(12).toString('base64url')}`;
  const clientSecret =
    input.auth === 'client_secret_basic' ? randomBytes(32).toString('base64url') : undefined;
  const sidecar: ClientSidecar = { operator: true, serviceRole: input.serviceRole };
  await storage.upsert(
    'Client',
    clientId,
    {
      client_id: clientId,
      client_name: name,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      application_type: 'web',
      grant_types: grantTypes,
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: input.auth,
      ...(clientSecret ? { client_secret: hashClientSecret(clientSecret), client_secret_expires_at: 0 } : {}),
      ...keys,
      [SIDECAR]: sidecar,
    },
    undefined,
  );
  return { clientId, ...(clientSecret ? { clientSecret } : {}), grantTypes };
}

/** A JWKS holds public keys only: a private member in a registration would be a leak waiting. */
function publicOnly(jwk: Record<string, unknown>): Record<string, unknown> {
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
    if (member in jwk)
      throw new OperatorClientError('the JWKS must hold public keys only (found a private key)');
  }
  return jwk;
}
