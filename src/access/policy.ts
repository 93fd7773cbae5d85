/**
 * Who may see and call a tool. Each tool declares one `Access` in its definition; tools/list
 * filtering, 401/403 challenges and PRM scopes are all derived from these declarations.
 */
import { missingScopes, type Role } from './scopes.ts';

export type Access =
  /** Anyone, including anonymous callers (when anonymous access is enabled). */
  | { readonly kind: 'public' }
  /** A signed-in user holding every scope listed (and, if given, the role). */
  | { readonly kind: 'user'; readonly scopes: readonly string[]; readonly role?: Role };

export const PUBLIC: Access = { kind: 'public' };

export function signedIn(scopes: readonly string[], role?: Role): Access {
  return role === undefined ? { kind: 'user', scopes } : { kind: 'user', scopes, role };
}

/**
 * Both requirements at once: the union of their scopes and the stricter role. A call's requirement
 * is the tool's `access` tightened by its `accessFor(args)`, so a challenge names every scope the
 * operation needs (MCP authorization: all required scopes in a single challenge).
 */
export function combineAccess(base: Access, extra: Access | undefined): Access {
  if (extra === undefined || extra.kind === 'public') return base;
  if (base.kind === 'public') return extra;
  const scopes = [...new Set([...base.scopes, ...extra.scopes])];
  return signedIn(scopes, extra.role ?? base.role);
}

/**
 * The identity behind one MCP request, derived from its verified access token (or its absence):
 * nobody, a user (authorization code, device flow, enterprise ID-JAG), or a service — an
 * operator-registered machine client acting as itself (client credentials), whose role comes from
 * its registration. Both signed-in kinds carry a role and scopes, so access decisions treat them
 * alike; only tools about "your" data ask which kind they serve.
 */
export type Caller =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'service';
      readonly clientId: string;
      /** The registered client name (what `sekisho clients add` was told), else the client id. */
      readonly name: string;
      readonly role: Role;
      readonly grantId: undefined;
      readonly scopes: ReadonlySet<string>;
      /** Seconds since the epoch. */
      readonly expiresAt: number;
    }
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly username: string;
      readonly name: string;
      readonly email: string;
      readonly role: Role;
      readonly clientId: string;
      readonly grantId: string | undefined;
      readonly scopes: ReadonlySet<string>;
      /** Seconds since the epoch. */
      readonly expiresAt: number;
      /**
       * Set when the user comes from an external authorization server's token (resource-server-only
       * mode): the token is the whole identity and there is no local account to look up.
       */
      readonly issuer?: string;
    };

export const ANONYMOUS: Caller = { kind: 'anonymous' };

export type SignedInCaller = Exclude<Caller, { kind: 'anonymous' }>;

/** What a tool about the caller's own data says to a service identity, which has no user data. */
export const NO_USER_DATA = 'This tool works on a user’s own data; a service (client credentials) has none.';

/** What stands between a caller and a tool; `ok` when nothing does. */
export type AccessDecision =
  | { readonly kind: 'ok' }
  /** No identity: answer 401 so the client starts OAuth. */
  | { readonly kind: 'sign-in'; readonly scopes: readonly string[] }
  /** Signed in, but the token lacks scopes the user could be granted: 403 insufficient_scope (step-up). */
  | { readonly kind: 'step-up'; readonly scopes: readonly string[] }
  /** The user's role can never have this: a plain tool error, not a loop of challenges. */
  | { readonly kind: 'forbidden'; readonly reason: string };

export function decideAccess(access: Access, caller: Caller): AccessDecision {
  if (access.kind === 'public') return { kind: 'ok' };
  if (caller.kind === 'anonymous') return { kind: 'sign-in', scopes: access.scopes };
  if (access.role !== undefined && caller.role !== access.role) {
    return {
      kind: 'forbidden',
      reason: `This tool needs the ${access.role} role; you are signed in as a ${caller.role}${caller.kind === 'service' ? ' service' : ''}.`,
    };
  }
  const missing = missingScopes(caller.scopes, access.scopes);
  return missing.length > 0 ? { kind: 'step-up', scopes: access.scopes } : { kind: 'ok' };
}

/** Whether the caller could ever use the tool (so tools/list shows it; a step-up may still be needed). */
export function mayEverUse(access: Access, caller: Caller): boolean {
  const decision = decideAccess(access, caller);
  return decision.kind === 'ok' || decision.kind === 'step-up';
}
