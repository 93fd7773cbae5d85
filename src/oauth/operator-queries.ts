/**
 * Grants and clients as the operator sees them, read straight from the oidc-provider rows in
 * storage (Grant payload: accountId, clientId, openid.scope, resources{aud: scope}, iat, exp).
 * Storage-level on purpose: the CLI runs beside the server without loading oidc-provider (which
 * `oauth/grants.ts` imports through the adapter); both read and revoke grants through
 * `oauth/grant-rows.ts`, which has no oidc-provider import.
 */
import type { Audit } from '../audit/audit.ts';
import type { RevokedBy } from '../audit/events.ts';
import { clientSidecar } from '../storage/sidecar.ts';
import type { OidcPayload, OidcRow, Storage } from '../storage/types.ts';
import { grantedScopes, revokeGrantRows } from './grant-rows.ts';

export interface GrantInfo {
  readonly grantId: string;
  readonly accountId: string;
  readonly username: string | undefined;
  readonly clientId: string;
  readonly clientName: string | undefined;
  /** Every scope granted and not rejected: per-resource (RFC 8707) scopes, then OpenID ones. */
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
  readonly lastUsedAt: number | undefined;
}

/**
 * How a client came to be: dynamic registration (RFC 7591), a client ID metadata document (its id is
 * an https URL), `sekisho clients add --machine` (client credentials with a role), or another
 * operator registration (e.g. an enterprise client).
 */
export type ClientKind = 'dcr' | 'cimd' | 'machine' | 'operator';

export interface ClientInfo {
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly kind: ClientKind;
  readonly redirectUris: readonly string[];
  readonly authMethod: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
  readonly lastUsedAt: number | undefined;
}

export async function listGrants(
  storage: Storage,
  filter: { accountId?: string; clientId?: string } = {},
): Promise<GrantInfo[]> {
  const rows = await storage.list('Grant', filter);
  const clientNames = new Map<string, string | undefined>();
  const usernames = new Map<string, string | undefined>();
  const out: GrantInfo[] = [];
  for (const row of rows) {
    const accountId = text(row.payload.accountId) ?? '';
    const clientId = text(row.payload.clientId) ?? '';
    if (!usernames.has(accountId))
      usernames.set(accountId, (await storage.findUserById(accountId))?.username);
    if (!clientNames.has(clientId)) {
      clientNames.set(clientId, text((await storage.find('Client', clientId))?.client_name));
    }
    out.push({
      grantId: row.id,
      accountId,
      username: usernames.get(accountId),
      clientId,
      clientName: clientNames.get(clientId),
      ...scopesOf(row),
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      lastUsedAt: row.lastUsedAt,
    });
  }
  return out;
}

/**
 * Revokes every token of the grant, then the grant itself, and records it as done by the audit's
 * actor through `by`. False when there was no such grant.
 */
export async function revokeGrant(
  storage: Storage,
  grantId: string,
  audit: Audit,
  by: RevokedBy,
): Promise<boolean> {
  const grant = await storage.find('Grant', grantId);
  await revokeGrantRows(storage, grantId);
  if (!grant) return false;
  await audit.record({
    type: 'grant.revoked',
    userId: typeof grant.accountId === 'string' ? grant.accountId : undefined,
    clientId: typeof grant.clientId === 'string' ? grant.clientId : undefined,
    grantId,
    details: { by },
  });
  return true;
}

export async function listClients(storage: Storage): Promise<ClientInfo[]> {
  return (await storage.list('Client')).map((row) => ({
    clientId: row.id,
    clientName: text(row.payload.client_name),
    kind: clientKind(row.id, row.payload),
    redirectUris: Array.isArray(row.payload.redirect_uris) ? row.payload.redirect_uris.map(String) : [],
    authMethod: text(row.payload.token_endpoint_auth_method),
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
  }));
}

/**
 * Deletes a client and everything issued to it (its grants and their tokens, its registration
 * access tokens). Returns the number of grants revoked, or undefined when there is no such client.
 */
export async function removeClient(
  storage: Storage,
  clientId: string,
  audit: Audit,
  by: RevokedBy,
): Promise<number | undefined> {
  const client = await storage.find('Client', clientId);
  if (!client) return undefined;
  const grants = await storage.list('Grant', { clientId });
  for (const g of grants) await revokeGrant(storage, g.id, audit, by);
  for (const rat of await storage.list('RegistrationAccessToken', { clientId })) {
    await storage.destroy('RegistrationAccessToken', rat.id);
  }
  await storage.destroy('Client', clientId);
  await audit.record({
    type: 'client.removed',
    clientId,
    details: { by, name: text(client.client_name), grantsRevoked: grants.length },
  });
  return grants.length;
}

/** Granted minus rejected (oidc-provider keeps both on the Grant), per resource and for OpenID. */
function scopesOf(row: OidcRow): { scopes: string[]; resources: string[] } {
  const { byResource, openid } = grantedScopes(row.payload);
  return {
    scopes: [...new Set([...[...byResource.values()].flat(), ...openid])],
    resources: [...byResource.keys()],
  };
}

export function clientKind(clientId: string, payload: OidcPayload | undefined): ClientKind {
  const sidecar = clientSidecar(payload);
  if (sidecar?.serviceRole !== undefined) return 'machine';
  if (sidecar) return 'operator';
  return clientId.startsWith('https://') ? 'cimd' : 'dcr';
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
