/**
 * From a verified access token to the `Caller` tools see, and back out of the SDK's `AuthInfo`.
 *
 * Two things can change under a token that is still cryptographically valid, and are checked on every
 * request: the grant (revoked from the account page, the CLI or admin_panel → refused on the very next
 * request) and the user (deleted or disabled → refused; role changed → the new role applies at once).
 * Both come from one joined read (`GateStore.findGrantAndUser`), which the server puts behind the
 * revocation-aware cache (grant-cache.ts: dropped by the invalidation bus, so the next request after a
 * revocation re-reads storage on every instance).
 *
 * A service token (client credentials: no grant, `sub` = `client_id`) is checked the same way against
 * what can change under it: the machine client (removed with `sekisho clients remove` → refused at
 * once; its role is read now, so a changed registration applies at once too). Like every JWT access
 * token, it is not stored, so it cannot be revoked one by one: it lives one access-token TTL.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Caller, SignedInCaller } from '../access/policy.ts';
import { clientSidecar } from '../storage/sidecar.ts';
import type { GateStore, GrantAndUser, OidcStore } from '../storage/types.ts';
import { TokenRejectedError, type VerifiedAccessToken } from './verify-token.ts';

export type UserCaller = Extract<Caller, { kind: 'user' }>;
export type ServiceCaller = Extract<Caller, { kind: 'service' }>;

export interface CallerLookups {
  /** Client rows (service tokens). */
  readonly grants: Pick<OidcStore, 'find'>;
  /** The grant and the user behind a user token: storage itself, or the gate's cache in front of it. */
  readonly gate: GateStore;
  readonly now?: () => number;
}

export async function resolveCaller(
  token: VerifiedAccessToken,
  deps: CallerLookups,
): Promise<SignedInCaller> {
  // An external authorization server's token carries its caller: nothing local to look up.
  if (token.caller !== undefined) return token.caller;
  if (token.grantId === undefined) return resolveService(token, deps);
  return resolveUser(token, token.grantId, deps);
}

async function resolveService(token: VerifiedAccessToken, deps: CallerLookups): Promise<ServiceCaller> {
  const client = await deps.grants.find('Client', token.clientId);
  const role = clientSidecar(client)?.serviceRole;
  if (!client || role === undefined) {
    throw new TokenRejectedError(
      'The client behind this token is no longer registered as a service.',
      'service_removed',
    );
  }
  const name =
    typeof client.client_name === 'string' && client.client_name ? client.client_name : token.clientId;
  return Object.freeze({
    kind: 'service',
    clientId: token.clientId,
    name,
    role,
    grantId: undefined,
    scopes: new Set(token.scopes),
    expiresAt: token.expiresAt,
  });
}

/**
 * The caller last built for a token, and the grant-and-user read it was built from. The gate cache
 * hands out the same read object until the grant or the user changes, and the token cache the same
 * verdict object, so a repeated request reuses its frozen caller instead of building and freezing a
 * new one (≈ 1 µs a request). Every check below still runs on every request; only the result of the
 * same inputs is reused.
 */
const builtCallers = new WeakMap<
  VerifiedAccessToken,
  { readonly from: GrantAndUser; readonly caller: UserCaller }
>();

async function resolveUser(
  token: VerifiedAccessToken,
  grantId: string,
  deps: CallerLookups,
): Promise<UserCaller> {
  const found = await deps.gate.findGrantAndUser(grantId, token.subject);
  const { grant, user } = found;
  const nowSeconds = Math.floor((deps.now ?? Date.now)() / 1000);
  if (!grant || (typeof grant.exp === 'number' && grant.exp <= nowSeconds)) {
    throw new TokenRejectedError(
      'The authorization behind this token was revoked. Sign in again.',
      'revoked',
    );
  }
  if (
    (grant.accountId !== undefined && grant.accountId !== token.subject) ||
    (grant.clientId !== undefined && grant.clientId !== token.clientId)
  ) {
    throw new TokenRejectedError('The access token does not match its authorization.', 'mismatch');
  }
  if (!user) throw new TokenRejectedError('The account behind this token no longer exists.', 'user_removed');
  if (user.disabledAt !== undefined) {
    throw new TokenRejectedError('The account behind this token is disabled.', 'user_disabled');
  }
  const built = builtCallers.get(token);
  if (built?.from === found) return built.caller;
  const caller: UserCaller = Object.freeze({
    kind: 'user',
    userId: user.id,
    username: user.username,
    name: user.name,
    email: user.email,
    role: user.role,
    clientId: token.clientId,
    grantId,
    scopes: new Set(token.scopes),
    expiresAt: token.expiresAt,
  });
  builtCallers.set(token, { from: found, caller });
  return caller;
}

/**
 * The same user caller re-read now (their role may have changed), for state that outlives a request —
 * an MCP session's tool set. Undefined when the grant or the account is gone; unchanged for a caller
 * without a local grant. Scopes and expiry are
 * the token's and stay as they were: only a new token changes them.
 */
export async function recheckUser(caller: UserCaller, deps: CallerLookups): Promise<UserCaller | undefined> {
  // No local grant (a token of an external issuer): nothing here to re-read.
  if (caller.grantId === undefined) return caller;
  const { grant, user } = await deps.gate.findGrantAndUser(caller.grantId, caller.userId);
  const nowSeconds = Math.floor((deps.now ?? Date.now)() / 1000);
  if (!grant || (typeof grant.exp === 'number' && grant.exp <= nowSeconds) || !user) return undefined;
  // A disabled account keeps nothing open, as the gate refuses its next request.
  if (user.disabledAt !== undefined) return undefined;
  return Object.freeze({ ...caller, role: user.role, name: user.name, email: user.email });
}

/** Extra data the gate hands to the MCP server factory through `req.auth`. */
interface GateExtra {
  readonly caller: SignedInCaller;
  /** Names of the tools this request calls (so a tool hidden from this user can answer clearly). */
  readonly toolCalls: readonly string[];
}

export function toAuthInfo(
  token: string,
  verified: VerifiedAccessToken,
  caller: SignedInCaller,
  toolCalls: readonly string[],
  resource: { url: string; metadataUrl: string },
): AuthInfo {
  const extra: GateExtra = { caller, toolCalls };
  return {
    token,
    clientId: verified.clientId,
    scopes: [...verified.scopes],
    expiresAt: verified.expiresAt,
    resource: new URL(resource.url),
    resourceMetadataUrl: resource.metadataUrl,
    extra: extra as unknown as Record<string, unknown>,
  };
}

/** The caller the gate attached, or undefined for an anonymous request. */
export function callerFromAuthInfo(authInfo: AuthInfo | undefined): SignedInCaller | undefined {
  const caller = (authInfo?.extra as Partial<GateExtra> | undefined)?.caller;
  return caller?.kind === 'user' || caller?.kind === 'service' ? caller : undefined;
}

export function toolCallsFromAuthInfo(authInfo: AuthInfo | undefined): readonly string[] {
  const calls = (authInfo?.extra as Partial<GateExtra> | undefined)?.toolCalls;
  return Array.isArray(calls) ? calls : [];
}
