/**
 * The client credentials grant (RFC 6749 §4.4; MCP ext-auth "OAuth client credentials") on
 * oidc-provider's `features.clientCredentials`. Only operator-registered machine clients may use it
 * (`sekisho clients add --machine --role …`; registration and metadata documents refuse the grant,
 * `clients.ts`), authenticating with `client_secret_basic` or `private_key_jwt`.
 *
 * Policy applied through the resource-indicator hooks, where oidc-provider asks for it:
 *  - `resource` is required (no token without an audience); it must be the MCP endpoint;
 *  - scopes = requested ∩ what the client's role may hold; a request naming no allowed scope gets
 *    the basic set the role allows (the same "downscope, never refuse" rule as for users);
 *  - no refresh token (oidc-provider never issues one for this grant), no grant row: the token's
 *    `sub` is the client id, and the resource server treats it as a service identity whose role is
 *    read from the client's registration on every request.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Role } from '../access/scopes.ts';
import { clientSidecar } from '../storage/sidecar.ts';
import type { OidcStore } from '../storage/types.ts';
import { CLIENT_CREDENTIALS_GRANT } from './grant-types.ts';
import type { ScopePolicy } from './scope-policy.ts';

export function isClientCredentialsRequest(ctx: KoaContextWithOIDC | undefined): boolean {
  return ctx?.oidc?.route === 'token' && ctx.oidc.params?.grant_type === CLIENT_CREDENTIALS_GRANT;
}

/** The role a machine client's service identity has, from its registration; undefined for others. */
export async function serviceRoleOf(
  storage: Pick<OidcStore, 'find'>,
  clientId: string,
): Promise<Role | undefined> {
  return clientSidecar(await storage.find('Client', clientId))?.serviceRole;
}

/**
 * The scopes a client credentials token for the MCP resource may carry, and — when the request names
 * none of them — the basic set put into the request so oidc-provider issues it.
 */
export async function serviceResourceScope(
  ctx: KoaContextWithOIDC,
  storage: Pick<OidcStore, 'find'>,
  policy: Pick<ScopePolicy, 'allowedFor' | 'resourceScopes' | 'basicScopes'>,
): Promise<string> {
  const clientId = ctx.oidc.client?.clientId ?? '';
  const role = await serviceRoleOf(storage, clientId);
  if (role === undefined) throw new errors.UnauthorizedClient('this client is not a registered service');
  const allowed = policy.allowedFor(role, policy.resourceScopes);
  const params = ctx.oidc.params as { scope?: string };
  const requested = (params.scope ?? '').split(' ').filter(Boolean);
  if (!requested.some((s) => allowed.includes(s))) {
    params.scope = [...requested, ...policy.allowedFor(role, policy.basicScopes)].join(' ');
  }
  return allowed.join(' ');
}
