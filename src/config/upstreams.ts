/**
 * Upstream OpenID providers as settings: one from the SEKISHO_UPSTREAM_* variables, any number from
 * SEKISHO_UPSTREAMS (a JSON array, normally in the config file). Each becomes a frozen
 * `UpstreamProvider` with its preset's scopes and claim names filled in and its role-mapping rules.
 * Problems are returned as "KEY: message" lines for `ConfigError`, never thrown from here.
 */
import { z } from 'zod';
import type { Role } from '../access/scopes.ts';
import { PRESET_NAMES, PRESETS, type PresetName, presetForIssuer } from './upstream-presets.ts';

/** Who may sign in through a provider, and as what (role-mapping.ts applies them). */
export interface RoleRules {
  /** A user whose group/role claims contain one of these is an admin. */
  readonly adminGroups: readonly string[];
  /** A user whose group/role claims contain one of these is a user (when no admin group matched). */
  readonly userGroups: readonly string[];
  /**
   * When not empty, only users whose *verified* e-mail is in one of these domains may sign in at
   * all (a gate before any role rule).
   */
  readonly allowedDomains: readonly string[];
  /** The role of an admitted user no group rule matched; `none` refuses them. */
  readonly defaultRole: Role | 'none';
}

export interface UpstreamProvider {
  /** Short stable name in URLs and logs (`[a-z0-9-]`), unique among the providers. */
  readonly id: string;
  /** Shown on the button: "Sign in with <name>". */
  readonly name: string;
  /** The issuer identifier exactly as its ID tokens carry it. */
  readonly issuer: string;
  readonly clientId: string;
  /** Never logged. */
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly preset: PresetName;
  /** Claims (dotted paths allowed) read as the user's groups/roles. */
  readonly groupClaims: readonly string[];
  readonly emailVerifiedClaim: string;
  readonly rules: RoleRules;
}

const role = z.enum(['admin', 'user', 'none'], { error: 'must be admin, user or none' });
const words = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(/[\s,]+/)).map((s) => s.trim()).filter(Boolean));

/** One provider as written in SEKISHO_UPSTREAMS (camelCase keys). */
const providerEntry = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1–32 characters of a-z 0-9 -')
    .optional(),
  name: z.string().trim().min(1).max(60, 'must be at most 60 characters').optional(),
  issuer: z.string().min(1, 'is required'),
  clientId: z.string().min(1, 'is required').max(512),
  clientSecret: z.string().min(1, 'is required').max(1024),
  scopes: words.optional(),
  preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]]).optional(),
  groupsClaim: words.optional(),
  adminGroups: words.optional(),
  userGroups: words.optional(),
  allowedDomains: words.optional(),
  defaultRole: role.optional(),
});

type ProviderEntry = z.infer<typeof providerEntry>;

/** The settings this module reads, by environment name (already validated as plain strings). */
export interface UpstreamSettings {
  readonly SEKISHO_UPSTREAM_ISSUER?: string | undefined;
  readonly SEKISHO_UPSTREAM_CLIENT_ID?: string | undefined;
  readonly SEKISHO_UPSTREAM_CLIENT_SECRET?: string | undefined;
  readonly SEKISHO_UPSTREAM_NAME?: string | undefined;
  readonly SEKISHO_UPSTREAM_SCOPES?: string | undefined;
  readonly SEKISHO_UPSTREAM_PRESET?: string | undefined;
  readonly SEKISHO_UPSTREAM_GROUPS_CLAIM?: string | undefined;
  readonly SEKISHO_UPSTREAM_ADMIN_GROUPS?: string | undefined;
  readonly SEKISHO_UPSTREAM_USER_GROUPS?: string | undefined;
  readonly SEKISHO_UPSTREAM_ALLOWED_DOMAINS?: string | undefined;
  readonly SEKISHO_UPSTREAM_DEFAULT_ROLE?: string | undefined;
  readonly SEKISHO_UPSTREAMS?: string | undefined;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function parseUpstreams(env: UpstreamSettings): {
  providers: UpstreamProvider[];
  problems: string[];
} {
  const problems: string[] = [];
  const entries: { key: string; entry: unknown }[] = [];

  const single = {
    issuer: env.SEKISHO_UPSTREAM_ISSUER,
    clientId: env.SEKISHO_UPSTREAM_CLIENT_ID,
    clientSecret: env.SEKISHO_UPSTREAM_CLIENT_SECRET,
  };
  if (single.issuer || single.clientId || single.clientSecret) {
    const missing = Object.entries({
      SEKISHO_UPSTREAM_ISSUER: single.issuer,
      SEKISHO_UPSTREAM_CLIENT_ID: single.clientId,
      SEKISHO_UPSTREAM_CLIENT_SECRET: single.clientSecret,
    }).filter(([, v]) => !v);
    for (const [key] of missing) problems.push(`${key}: is required when any SEKISHO_UPSTREAM_* is set`);
    if (missing.length === 0) {
      entries.push({
        key: 'SEKISHO_UPSTREAM',
        entry: dropUndefined({
          ...single,
          name: env.SEKISHO_UPSTREAM_NAME,
          scopes: env.SEKISHO_UPSTREAM_SCOPES,
          preset: env.SEKISHO_UPSTREAM_PRESET,
          groupsClaim: env.SEKISHO_UPSTREAM_GROUPS_CLAIM,
          adminGroups: env.SEKISHO_UPSTREAM_ADMIN_GROUPS,
          userGroups: env.SEKISHO_UPSTREAM_USER_GROUPS,
          allowedDomains: env.SEKISHO_UPSTREAM_ALLOWED_DOMAINS,
          defaultRole: env.SEKISHO_UPSTREAM_DEFAULT_ROLE,
        }),
      });
    }
  }

  if (env.SEKISHO_UPSTREAMS) {
    let list: unknown;
    try {
      list = JSON.parse(env.SEKISHO_UPSTREAMS);
    } catch {
      problems.push('SEKISHO_UPSTREAMS: must be a JSON array of providers');
    }
    if (list !== undefined && !Array.isArray(list)) {
      problems.push('SEKISHO_UPSTREAMS: must be a JSON array of providers');
    } else if (Array.isArray(list)) {
      list.forEach((entry, i) => {
        entries.push({ key: `SEKISHO_UPSTREAMS[${i}]`, entry });
      });
    }
  }

  const providers: UpstreamProvider[] = [];
  for (const { key, entry } of entries) {
    const parsed = providerEntry.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${key}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
      }
      continue;
    }
    const built = buildProvider(
      parsed.data,
      key === 'SEKISHO_UPSTREAM' ? 'SEKISHO_UPSTREAM_ISSUER' : `${key}.issuer`,
    );
    if (typeof built === 'string') problems.push(built);
    else providers.push(built);
  }

  const seenIds = new Set<string>();
  const seenIssuers = new Set<string>();
  for (const p of providers) {
    if (seenIds.has(p.id)) problems.push(`SEKISHO_UPSTREAMS: two providers have the id "${p.id}"; set "id"`);
    if (seenIssuers.has(p.issuer))
      problems.push(`SEKISHO_UPSTREAMS: the issuer ${p.issuer} is configured twice`);
    seenIds.add(p.id);
    seenIssuers.add(p.issuer);
  }
  return { providers, problems };
}

function buildProvider(entry: ProviderEntry, issuerKey: string): UpstreamProvider | string {
  const issuerUrl = URL.parse(entry.issuer);
  if (!issuerUrl || (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:')) {
    return `${issuerKey}: must be an absolute https URL`;
  }
  if (issuerUrl.protocol === 'http:' && !LOOPBACK.has(issuerUrl.hostname)) {
    return `${issuerKey}: must use https (http only for a loopback issuer in development)`;
  }
  if (issuerUrl.search || issuerUrl.hash || issuerUrl.username || issuerUrl.password) {
    return `${issuerKey}: must not contain credentials, a query or a fragment`;
  }
  const preset = entry.preset ? PRESETS[entry.preset] : presetForIssuer(issuerUrl);
  if (entry.preset && !preset.fits(issuerUrl)) {
    return `${issuerKey}: does not look like a ${preset.displayName} issuer (${preset.issuerTemplate})`;
  }
  const refusal = preset.refuse?.(issuerUrl);
  if (refusal) return `${issuerKey}: ${refusal}`;
  const scopes = entry.scopes ?? [...preset.scopes];
  if (!scopes.includes('openid')) return `${issuerKey.replace(/issuer$/, 'scopes')}: must include openid`;
  return Object.freeze({
    id: entry.id ?? (preset.name === 'generic' ? slug(issuerUrl.hostname) : preset.name),
    name: entry.name ?? preset.displayName,
    // Exactly as written: ID tokens must carry this very string (Auth0's ends in a slash).
    issuer: entry.issuer,
    clientId: entry.clientId,
    clientSecret: entry.clientSecret,
    scopes: Object.freeze(scopes),
    preset: preset.name,
    groupClaims: Object.freeze(entry.groupsClaim ?? [...preset.groupClaims]),
    emailVerifiedClaim: preset.emailVerifiedClaim,
    rules: Object.freeze({
      adminGroups: Object.freeze(entry.adminGroups ?? [...preset.adminGroups]),
      userGroups: Object.freeze(entry.userGroups ?? []),
      allowedDomains: Object.freeze(
        (entry.allowedDomains ?? []).map((d) => d.toLowerCase().replace(/^@/, '')),
      ),
      defaultRole: entry.defaultRole ?? 'user',
    }),
  });
}

function slug(hostname: string): string {
  return (
    hostname
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'upstream'
  );
}

function dropUndefined(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Record<
    string,
    string
  >;
}
