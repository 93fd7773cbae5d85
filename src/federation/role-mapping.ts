/**
 * Who an upstream provider's user is to Sekisho, from the claims it released and the operator's
 * rules (config/upstreams.ts `RoleRules`), in this order:
 *
 *  1. the e-mail domain gate: when `allowedDomains` is set, the e-mail must be verified by the
 *     provider and its domain in the list, or the user is refused (an unverified address proves
 *     nothing: anyone can type one into many IdPs);
 *  2. a group/role claim containing one of `adminGroups` → admin;
 *  3. one of `userGroups` → user;
 *  4. otherwise `defaultRole`; `none` refuses.
 *
 * Pure: sign-in, the refresh grant and the tests all judge with this one function, against claims
 * as the provider sent them (sign-in) or as stored at the last sign-in (refresh).
 */
import type { Role } from '../access/scopes.ts';
import type { UpstreamProvider } from '../config/upstreams.ts';

/** The claims Sekisho keeps about an upstream user (stored with the link; never tokens). */
export interface UpstreamProfile {
  readonly sub: string;
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  readonly name: string | undefined;
  readonly preferredUsername: string | undefined;
  readonly groups: readonly string[];
}

export type Verdict =
  | { readonly admitted: true; readonly role: Role; readonly because: string }
  | { readonly admitted: false; readonly because: string };

/** Most group values any one claim may contribute (a token with thousands is cut, not a DoS). */
const MAX_GROUPS = 500;

/** The profile in a provider's claims, read through its preset's claim names. */
export function profileFrom(
  claims: Readonly<Record<string, unknown>>,
  provider: UpstreamProvider,
): UpstreamProfile {
  const groups = new Set<string>();
  for (const path of provider.groupClaims) {
    for (const value of asStrings(claimAt(claims, path)).slice(0, MAX_GROUPS)) groups.add(value);
  }
  const email = typeof claims.email === 'string' && claims.email.includes('@') ? claims.email : undefined;
  const verified = claims[provider.emailVerifiedClaim];
  return {
    sub: String(claims.sub),
    email,
    emailVerified: email !== undefined && (verified === true || verified === 'true' || verified === 1),
    name: typeof claims.name === 'string' ? claims.name : undefined,
    preferredUsername: typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined,
    groups: [...groups],
  };
}

export function judge(profile: UpstreamProfile, rules: UpstreamProvider['rules']): Verdict {
  if (rules.allowedDomains.length > 0) {
    const domain = profile.email?.split('@').pop()?.toLowerCase();
    if (!profile.emailVerified || !domain) {
      return { admitted: false, because: 'no verified e-mail address, and an e-mail domain is required' };
    }
    if (!rules.allowedDomains.includes(domain)) {
      return { admitted: false, because: `the e-mail domain ${domain} is not allowed` };
    }
  }
  const member = (list: readonly string[]) => list.find((g) => profile.groups.includes(g));
  const admin = member(rules.adminGroups);
  if (admin !== undefined) return { admitted: true, role: 'admin', because: `member of ${admin}` };
  const user = member(rules.userGroups);
  if (user !== undefined) return { admitted: true, role: 'user', because: `member of ${user}` };
  if (rules.defaultRole === 'none') {
    return { admitted: false, because: 'no rule admits this user (no matching group, no default role)' };
  }
  return { admitted: true, role: rules.defaultRole, because: 'default role' };
}

/** A claim by dotted path (`realm_access.roles`); a top-level claim whose name has dots wins. */
function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return value ? [value] : [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

/**
 * Marks a link made or refreshed by an upstream sign-in: links made otherwise (`sekisho users link`,
 * enterprise ID-JAG subjects) are not judged by these rules.
 */
export const UPSTREAM_LINK_MARK = 'upstream-sign-in';

/** The profile as stored with the link (claims column), and back. */
export function profileToClaims(profile: UpstreamProfile): Record<string, unknown> {
  return {
    via: UPSTREAM_LINK_MARK,
    sub: profile.sub,
    email: profile.email,
    email_verified: profile.emailVerified,
    name: profile.name,
    preferred_username: profile.preferredUsername,
    groups: [...profile.groups],
  };
}

export function profileFromStored(claims: Readonly<Record<string, unknown>>): UpstreamProfile {
  return {
    sub: String(claims.sub ?? ''),
    email: typeof claims.email === 'string' ? claims.email : undefined,
    emailVerified: claims.email_verified === true,
    name: typeof claims.name === 'string' ? claims.name : undefined,
    preferredUsername: typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined,
    groups: asStrings(claims.groups),
  };
}
