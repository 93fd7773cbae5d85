/**
 * From a verified access token to the `Caller` tools see, and back out of the SDK's `AuthInfo`.
 *
 * Two lookups run on every request, uncached, because both can change under a token that is still
 * cryptographically valid: the grant (revoked from the account page, the CLI or admin_panel → refused
 * on the very next request, on every instance, since all instances read the same storage) and the
 * user (deleted → refused; role changed → the new role applies at once). Both are primary-key reads.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Caller } from '../access/policy.ts';
import type { OidcStore, UserStore } from '../storage/types.ts';
import { TokenRejectedError, type VerifiedAccessToken } from './verify-token.ts';

export type UserCaller = Extract<Caller, { kind: 'user' }>;

export interface CallerLookups {
  readonly grants: Pick<OidcStore, 'find'>;
  readonly users: Pick<UserStore, 'findUserById'>;
  readonly now?: () => number;
}

export async function resolveCaller(token: VerifiedAccessToken, deps: CallerLookups): Promise<UserCaller> {
  const [grant, user] = await Promise.all([
    deps.grants.find('Grant', token.grantId),
    deps.users.findUserById(token.subject),
  ]);
  const nowSeconds = Math.floor((deps.now ?? Date.now)() / 1000);
  if (!grant || (typeof grant.exp === 'number' && grant.exp <= nowSeconds)) {
    throw new TokenRejectedError('The authorization behind this token was revoked. Sign in again.');
  }
  if (
    (grant.accountId !== undefined && grant.accountId !== token.subject) ||
    (grant.clientId !== undefined && grant.clientId !== token.clientId)
  ) {
    throw new TokenRejectedError('The access token does not match its authorization.');
  }
  if (!user) throw new TokenRejectedError('The account behind this token no longer exists.');
  return Object.freeze({
    kind: 'user',
    userId: user.id,
    username: user.username,
    name: user.name,
    email: user.email,
    role: user.role,
    clientId: token.clientId,
    grantId: token.grantId,
    scopes: new Set(token.scopes),
    expiresAt: token.expiresAt,
  });
}

/** Extra data the gate hands to the MCP server factory through `req.auth`. */
interface GateExtra {
  readonly caller: UserCaller;
  /** Names of the tools this request calls (so a tool hidden from this user can answer clearly). */
  readonly toolCalls: readonly string[];
}

export function toAuthInfo(
  token: string,
  verified: VerifiedAccessToken,
  caller: UserCaller,
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
export function callerFromAuthInfo(authInfo: AuthInfo | undefined): UserCaller | undefined {
  const caller = (authInfo?.extra as Partial<GateExtra> | undefined)?.caller;
  return caller?.kind === 'user' ? caller : undefined;
}

export function toolCallsFromAuthInfo(authInfo: AuthInfo | undefined): readonly string[] {
  const calls = (authInfo?.extra as Partial<GateExtra> | undefined)?.toolCalls;
  return Array.isArray(calls) ? calls : [];
}
