/**
 * Which scopes a user gets. Three rules, applied wherever a grant is made or used:
 *
 *  1. The MCP scopes come from the tool registry (one source of truth with tools/list, PRM and the
 *     consent page); OpenID scopes are the few we can back with claims from identity.
 *  2. Downscope, never refuse: a client asking for scopes the user's role may not hold gets the
 *     allowed subset (Inspector asks for everything; clients.md) — never `access_denied`.
 *  3. A request naming no MCP scope at all (the conformance suite sends none) gets the registry's
 *     basic set.
 */
import { type Role, scopesForRole } from '../access/scopes.ts';

/** OpenID Connect scopes with claims behind them (`findAccount`), plus offline_access. */
export const OIDC_SCOPES: readonly string[] = Object.freeze(['openid', 'offline_access', 'profile', 'email']);

/** Claims released per OpenID scope (OIDC Core §5.4, only what identity actually holds). */
export const OIDC_CLAIMS = Object.freeze({
  openid: ['sub'],
  profile: ['name', 'preferred_username'],
  email: ['email'],
});

export interface ScopeDecision {
  /** MCP scopes to grant for the resource. Never empty for a user of a known role. */
  readonly granted: readonly string[];
  /** Requested MCP scopes the user's role may not hold (shown on the consent page). */
  readonly withheld: readonly string[];
  /** Requested OpenID scopes (granted as asked; none of them needs a role). */
  readonly oidc: readonly string[];
  /** True when nothing MCP-related was granted from the request and the basic set was used. */
  readonly defaulted: boolean;
}

export interface ScopePolicy {
  /** Every MCP scope the resource knows (registry order). */
  readonly resourceScopes: readonly string[];
  readonly basicScopes: readonly string[];
  /** `scopes_supported` for the discovery documents. */
  readonly supported: readonly string[];
  /** Fills in the basic set when a request names no MCP scope (authorization endpoint). */
  withDefaults(requested: string | undefined): string;
  decide(requested: string | undefined, role: Role): ScopeDecision;
  /** The subset of `scopes` a user of `role` may hold now (role changes clamp old grants). */
  allowedFor(role: Role, scopes: readonly string[]): string[];
}

export function createScopePolicy(registry: {
  readonly scopes: readonly string[];
  readonly basicScopes: readonly string[];
}): ScopePolicy {
  const resourceScopes = Object.freeze([...registry.scopes]);
  const basicScopes = Object.freeze([...registry.basicScopes]);
  const known = new Set(resourceScopes);
  const oidcKnown = new Set(OIDC_SCOPES);
  const allowedFor = (role: Role, scopes: readonly string[]) => {
    const allowed = new Set(scopesForRole(role));
    return scopes.filter((s) => allowed.has(s));
  };

  return {
    resourceScopes,
    basicScopes,
    supported: Object.freeze([...OIDC_SCOPES, ...resourceScopes]),
    withDefaults(requested) {
      const list = split(requested);
      if (list.some((s) => known.has(s))) return list.join(' ');
      return [...list, ...basicScopes].join(' ');
    },
    decide(requested, role) {
      const list = split(requested);
      const asked = list.filter((s) => known.has(s));
      const granted = allowedFor(role, asked);
      const withheld = asked.filter((s) => !granted.includes(s));
      const oidc = list.filter((s) => oidcKnown.has(s));
      if (granted.length > 0) return { granted, withheld, oidc, defaulted: false };
      return { granted: allowedFor(role, basicScopes), withheld, oidc, defaulted: true };
    },
    allowedFor,
  };
}

export function split(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}
