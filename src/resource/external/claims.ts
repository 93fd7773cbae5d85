/**
 * From the claims of an external token (a verified JWT or an introspection answer) to the `Caller`
 * the gate and the tools already understand. No local account is needed or created: the token is
 * the whole identity, and its role is decided here from the configured claim.
 *
 *  - scopes: `scope` (RFC 9068 / RFC 7662: space-separated string) and `scp` (Entra: string; Okta:
 *    array), either form, merged;
 *  - client: `client_id` (RFC 9068, RFC 7662), else `azp` (OIDC, Keycloak, Auth0, Entra v2), `appid`
 *    (Entra v1) or `cid` (Okta);
 *  - role: `admin` when the configured role claim (string or array) holds one of the admin values,
 *    else `user`. The claim name is looked up whole first, then as a dotted path, so both Auth0's
 *    namespaced `https://example.com/roles` and Keycloak's `realm_access.roles` work;
 *  - a token whose `sub` is its own client (RFC 9068 §2.2, client credentials) is a service, not a user.
 */
import type { Caller, SignedInCaller } from '../../access/policy.ts';
import type { Role } from '../../access/scopes.ts';
import { TokenRejectedError } from '../verify-token.ts';

export interface RoleRules {
  readonly roleClaim: string | undefined;
  readonly adminValues: readonly string[];
}

type Claims = Readonly<Record<string, unknown>>;

/** More than this many scopes or role values in one token is not a real token. */
const MAX_VALUES = 256;
const MAX_VALUE_LENGTH = 512;

/** The scopes a token carries, from `scope` and `scp`, as a string or an array of strings. */
export function scopesOf(claims: Claims): string[] {
  return [...new Set([...valuesIn(claims.scope, 'scope', ' '), ...valuesIn(claims.scp, 'scp', ' ')])];
}

/**
 * The values of a configured claim (whole name first, then a dotted path), as a list. A string is
 * one value (group names may contain spaces).
 */
export function claimValues(claims: Claims, name: string): string[] {
  let value: unknown = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (value === undefined && name.includes('.')) {
    value = name.split('.').reduce<unknown>((node, key) => {
      if (!node || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key))
        return undefined;
      return (node as Record<string, unknown>)[key];
    }, claims);
  }
  return valuesIn(value, name);
}

export function roleOf(claims: Claims, rules: RoleRules): Role {
  if (rules.roleClaim === undefined || rules.adminValues.length === 0) return 'user';
  const held = new Set(claimValues(claims, rules.roleClaim));
  return rules.adminValues.some((v) => held.has(v)) ? 'admin' : 'user';
}

export function clientIdOf(claims: Claims): string | undefined {
  for (const name of ['client_id', 'azp', 'appid', 'cid']) {
    const value = claims[name];
    if (typeof value === 'string' && value !== '' && value.length <= MAX_VALUE_LENGTH) return value;
  }
  return undefined;
}

/**
 * The caller behind the claims. `issuer` marks a user caller as external (no local account), so
 * tools about "your profile" answer from the token instead of looking up an account.
 */
export function callerFromClaims(
  claims: Claims,
  context: { readonly issuer: string; readonly expiresAt: number; readonly rules: RoleRules },
): SignedInCaller {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '' || sub.length > MAX_VALUE_LENGTH) {
    throw new TokenRejectedError('The access token has no subject.');
  }
  const clientId = clientIdOf(claims);
  if (clientId === undefined)
    throw new TokenRejectedError('The access token names no client (client_id or azp).');
  const role = roleOf(claims, context.rules);
  const scopes = new Set(scopesOf(claims));
  if (sub === clientId) {
    return Object.freeze({
      kind: 'service',
      clientId,
      name: clientId,
      role,
      grantId: undefined,
      scopes,
      expiresAt: context.expiresAt,
    });
  }
  const username = firstString(claims, ['preferred_username', 'username', 'upn', 'email']) ?? sub;
  const user: Extract<Caller, { kind: 'user' }> = {
    kind: 'user',
    userId: sub,
    username,
    name: firstString(claims, ['name']) ?? username,
    email: firstString(claims, ['email']) ?? '',
    role,
    clientId,
    grantId: undefined,
    scopes,
    expiresAt: context.expiresAt,
    issuer: context.issuer,
  };
  return Object.freeze(user);
}

function firstString(claims: Claims, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string' && value !== '' && value.length <= MAX_VALUE_LENGTH) return value;
  }
  return undefined;
}

function valuesIn(value: unknown, claim: string, separator?: string): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? (separator ? value.split(separator) : [value]) : value;
  if (!Array.isArray(list) || list.length > MAX_VALUES || !list.every((v) => typeof v === 'string')) {
    throw new TokenRejectedError(`The access token has an invalid ${claim} claim.`);
  }
  return list.filter((v) => v !== '' && v.length <= MAX_VALUE_LENGTH);
}
