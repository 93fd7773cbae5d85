/**
 * Clients an operator registers (`sekisho clients add`), as opposed to clients that register
 * themselves (DCR, metadata documents). Only these may use the grants that act without a consent
 * page: client credentials (a machine acting as itself, with a role) and the jwt-bearer grant with
 * enterprise ID-JAG assertions (an AI app acting for a user its enterprise IdP vouches for). They
 * are confidential — `client_secret_basic` with a 256-bit secret shown
 * once and stored as a digest, or `private_key_jwt` with a JWKS or a `jwks_uri` — and never expire
 * for being idle. The row is written the way oidc-provider's adapter would write it; oidc-provider
 * validates it again whenever it loads the client.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from '../access/scopes.ts';
import { type ClientSidecar, SIDECAR } from '../storage/sidecar.ts';
import type { OidcStore } from '../storage/types.ts';
import { hashClientSecret } from './client-secret.ts';
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT } from './grant-types.ts';

export type OperatorAuthMethod = 'client_secret_basic' | 'private_key_jwt';

export interface OperatorClientInput {
  readonly name: string;
  /** A machine client (client credentials) acting with this role. */
  readonly serviceRole?: Role;
  /** May present enterprise ID-JAG assertions (jwt-bearer grant) for the users their IdP vouches for. */
  readonly enterprise?: boolean;
  readonly auth: OperatorAuthMethod;
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  readonly jwksUri?: string;
  /**
   * A chosen client_id instead of a random `svc_…` one — e.g. to name it in SEKISHO_ENTERPRISE_IDPS
   * and in the enterprise IdP's configuration before the client exists. Not a secret.
   */
  readonly clientId?: string;
}

/** What a chosen client_id may look like: no URL (those are metadata documents), nothing to escape. */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{2,99}$/;

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
  const grantTypes = [
    ...(input.serviceRole !== undefined ? [CLIENT_CREDENTIALS_GRANT] : []),
    ...(input.enterprise ? [JWT_BEARER_GRANT] : []),
  ];
  if (grantTypes.length === 0) {
    throw new OperatorClientError(
      'say what the client is for: --machine --role admin|user, --enterprise, or both',
    );
  }
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
  if (input.clientId?.startsWith('sekisho-')) {
    throw new OperatorClientError('client ids starting with sekisho- are reserved for built-in clients');
  }
  if (input.clientId !== undefined && !CLIENT_ID.test(input.clientId)) {
    throw new OperatorClientError(
      '--client-id must be 3–100 characters of A-Z a-z 0-9 . _ ~ - (starting with a letter or digit)',
    );
  }
  const clientId = input.clientId ?? `svc_${randomBytes(12).toString('base64url')}`;
  if (input.clientId !== undefined && (await storage.find('Client', clientId))) {
    throw new OperatorClientError(`a client ${clientId} already exists`);
  }
  const clientSecret =
    input.auth === 'client_secret_basic' ? randomBytes(32).toString('base64url') : undefined;
  const sidecar: ClientSidecar = {
    operator: true,
    ...(input.serviceRole !== undefined ? { serviceRole: input.serviceRole } : {}),
  };
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
