/**
 * The one description of Sekisho's settings: each key's environment name, type, default and meaning.
 * `docs/configuration.md` documents exactly these keys; `load.ts` is the only reader of `process.env`.
 */
import { z } from 'zod';

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
    error: 'must be one of 1/0, true/false, yes/no, on/off',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** A whole number of seconds within [min, max]. */
const seconds = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** A whole number within [min, max]. */
const count = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  error: 'must be one of fatal, error, warn, info, debug, trace, silent',
});

/** The signing algorithms an external authorization server's access tokens may use: asymmetric only. */
export const EXTERNAL_TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/**
 * Resource-server-only mode (issue #11): `SEKISHO_EXTERNAL_ISSUER` turns the built-in authorization
 * server off and `/mcp` accepts tokens from that issuer instead. `load.ts` checks how they combine.
 */
const externalIssuerSettings = {
  SEKISHO_EXTERNAL_ISSUER: z
    .url({
      error: 'must be an absolute http(s) URL: the issuer exactly as the authorization server writes it',
    })
    .optional()
    .describe(
      'Resource-server-only mode: the issuer of an external authorization server whose tokens /mcp accepts. The built-in authorization server, its pages and its CLI commands are off.',
    ),
  SEKISHO_EXTERNAL_AUDIENCES: list
    .optional()
    .describe(
      'Extra audiences accepted besides <base>/mcp, for authorization servers without RFC 8707 resource indicators (Entra ID: api://…). Weaker: any resource sharing that audience accepts the same tokens.',
    ),
  SEKISHO_EXTERNAL_TOKEN_VERIFICATION: z
    .enum(['auto', 'jwt', 'introspection'], { error: 'must be one of auto, jwt, introspection' })
    .default('auto')
    .describe(
      "auto: JWTs verified against the issuer's JWKS, other tokens introspected (when a client is set); jwt: JWTs only; introspection: every token through RFC 7662, so revocation applies within the cache time.",
    ),
  SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe('The client Sekisho authenticates as at the introspection endpoint (RFC 7662).'),
  SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .describe(
      "That client's secret (client_secret_basic, or client_secret_post if that is all it supports).",
    ),
  SEKISHO_EXTERNAL_INTROSPECTION_CACHE_SECONDS: seconds(0, 300)
    .default(30)
    .describe(
      "How long an introspection answer is reused, never past the token's exp: the longest a revocation at the external server can go unnoticed. 0 = ask on every request.",
    ),
  SEKISHO_EXTERNAL_ROLE_CLAIM: z
    .string()
    .regex(/^[\x21-\x7E]{1,200}$/, 'must be a claim name (printable, no spaces)')
    .optional()
    .describe(
      "The token claim holding the caller's roles or groups (string or array), e.g. roles, groups, or realm_access.roles (dots walk into objects when no claim has the whole name).",
    ),
  SEKISHO_EXTERNAL_ADMIN_VALUES: list
    .optional()
    .describe(
      'Values of SEKISHO_EXTERNAL_ROLE_CLAIM that make the caller an admin; everyone else is a user.',
    ),
  SEKISHO_EXTERNAL_ALGORITHMS: list
    .pipe(
      z.array(
        z.enum(EXTERNAL_TOKEN_ALGORITHMS, {
          error: `must list only asymmetric algorithms: ${EXTERNAL_TOKEN_ALGORITHMS.join(', ')}`,
        }),
      ),
    )
    .optional()
    .describe(
      "Signing algorithms accepted on access tokens. Default: the ones the issuer's metadata names (id_token_signing_alg_values_supported) that are asymmetric, else every asymmetric one. none and HS* are never accepted.",
    ),
  SEKISHO_EXTERNAL_CLOCK_SKEW_SECONDS: seconds(0, 120)
    .default(30)
    .describe('Clock difference tolerated on exp, nbf and iat of external tokens.'),
  SEKISHO_EXTERNAL_TIMEOUT_MS: count(100, 30_000)
    .default(5_000)
    .describe('Time limit of each request to the external server (discovery, JWKS, introspection).'),
  SEKISHO_EXTERNAL_STARTUP_TIMEOUT_SECONDS: seconds(0, 3_600)
    .default(30)
    .describe(
      "At start, how long to keep retrying the external server's metadata (backoff 0.25 s doubling to 5 s) before exiting with status 1; 0 = one attempt.",
    ),
};

/** http only for loopback hosts (a development IdP on this machine); https everywhere else. */
const idpUrl = z.url({ error: 'must be an absolute URL' }).refine(
  (v) => {
    const url = URL.parse(v);
    if (!url || url.hash || url.username || url.password) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  },
  { error: 'must be https (http only on 127.0.0.1, [::1] or localhost), without credentials or fragment' },
);
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** One trusted enterprise IdP (ID-JAG issuer); see docs/grants.md. */
const enterpriseIdp = z
  .object({
    issuer: idpUrl.describe('`iss` of its assertions, compared exactly.'),
    jwks_uri: idpUrl.optional(),
    jwks: z
      .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1, 'must hold at least one key') })
      .optional(),
    clients: z
      .array(z.string().min(1).max(512))
      .min(1, 'must name at least one client_id allowed to present this IdP’s assertions'),
    users: z.enum(['linked', 'jit'], { error: 'must be linked or jit' }).default('linked'),
    jit_role: z.enum(['admin', 'user'], { error: 'must be admin or user' }).default('user'),
  })
  .strict()
  .refine((idp) => (idp.jwks_uri === undefined) !== (idp.jwks === undefined), {
    error: 'needs exactly one of jwks_uri or jwks',
  })
  .refine((idp) => !idp.jwks?.keys.some((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((m) => m in k)), {
    error: 'jwks must hold public keys only',
  });

/** A JSON array of IdPs: JSON text in the environment, or the array itself in the config file. */
const enterpriseIdps = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of identity providers' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(enterpriseIdp, { error: 'must be a JSON array of identity providers' })
      .refine((list) => new Set(list.map((i) => i.issuer)).size === list.length, {
        error: 'each issuer may appear once',
      }),
  );

/** Raw settings keyed by their environment-variable names; every value is optional text. */
export const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1').describe('Interface to listen on.'),
  PORT: port.default(3000).describe('TCP port to listen on (0 picks a free one).'),
  SEKISHO_BASE_URL: z
    .url({ error: 'must be an absolute http(s) URL' })
    .optional()
    .describe('Public base URL; becomes the OAuth issuer. Default http://localhost:<PORT>.'),
  SEKISHO_ALLOWED_HOSTS: list
    .optional()
    .describe(
      'Host names accepted in the Host header (DNS-rebinding guard). Default: localhost names + the base URL host.',
    ),
  SEKISHO_ALLOWED_ORIGINS: list
    .optional()
    .describe('Origins accepted from browsers. Default: localhost origins + the base URL origin.'),
  SEKISHO_LOG_LEVEL: logLevel.default('info').describe('pino log level.'),
  SEKISHO_DATA_DIR: z.string().min(1).default('./data').describe('Folder for the SQLite database and keys.'),
  SEKISHO_DATABASE_URL: z
    .string()
    .refine(isPostgresUrl, {
      error: 'must be a postgres:// or postgresql:// URL (unset: SQLite under SEKISHO_DATA_DIR)',
    })
    .optional()
    .describe(
      'PostgreSQL connection URL (`postgres://user:pass@host:5432/db`); selects the PostgreSQL backend for clusters. Unset: SQLite under SEKISHO_DATA_DIR.',
    ),
  SEKISHO_DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (a-z, 0-9, _; at most 63)')
    .optional()
    .describe(
      "PostgreSQL schema for Sekisho's tables (created if missing), so several deployments can share one database. Default: the server's search_path (normally `public`).",
    ),
  SEKISHO_DATABASE_POOL_SIZE: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(10)
    .describe(
      'PostgreSQL connections per Sekisho process (instances × this must stay under max_connections).',
    ),
  SEKISHO_DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(100, 'must be at least 100')
    .max(600_000, 'must be at most 600000')
    .default(5_000)
    .describe(
      'PostgreSQL statement_timeout per query; a query past it fails as "storage unavailable" (503), never a hung request.',
    ),
  SEKISHO_DATABASE_CONNECT_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(100, 'must be at least 100')
    .max(60_000, 'must be at most 60000')
    .default(5_000)
    .describe('How long opening one PostgreSQL connection may take before it counts as unreachable.'),
  SEKISHO_DATABASE_STARTUP_TIMEOUT_SECONDS: seconds(0, 3_600)
    .default(30)
    .describe(
      'At start, how long to keep retrying an unreachable PostgreSQL (backoff 0.25 s doubling to 5 s) before exiting with status 1; 0 = one attempt.',
    ),
  SEKISHO_DEMO: flag.default(false).describe('Seed demo users and demo-only tools (npm start turns it on).'),
  SEKISHO_ANONYMOUS: flag
    .optional()
    .describe('Serve public tools without a token. Default: on in demo mode, off otherwise.'),
  SEKISHO_MAX_BODY_BYTES: z.coerce
    .number({ error: 'must be a number' })
    .int()
    .min(1024, 'must be at least 1024')
    .default(1_048_576)
    .describe('Largest accepted request body in bytes (larger → 413).'),
  SEKISHO_SHUTDOWN_GRACE_MS: z.coerce
    .number({ error: 'must be a number' })
    .int()
    .min(0)
    .max(60_000)
    .default(8_000)
    .describe('How long to wait for in-flight requests on SIGTERM/SIGINT before closing them.'),
  SEKISHO_FAST_LANE: flag
    .default(true)
    .describe(
      'Answer plain tools/call and tools/list on /mcp without Express and a per-request SDK server (same answers, ~10× cheaper), and hand token, introspection, revocation and JWKS requests to the authorization server without Express; 0 sends everything through the full pipeline.',
    ),
  SEKISHO_MCP_SESSIONS: flag
    .optional()
    .describe(
      '2025-era clients get sessions (Mcp-Session-Id, the GET stream, server-to-client requests, notifications, resumable streams); 0 serves them statelessly. Default: on — with SEKISHO_REDIS_URL the sessions live in Redis, so a request of a session may land on any instance.',
    ),
  SEKISHO_MCP_SESSION_IDLE_SECONDS: seconds(60, 86_400)
    .default(1_800)
    .describe(
      'A 2025-era session unused this long ends (its next request gets 404 and the client starts a new one).',
    ),
  SEKISHO_MCP_SESSIONS_PER_USER: count(1, 1_000)
    .default(32)
    .describe(
      'Open sessions per user and client pair (anonymous callers share a pool 16 times this size); a new one beyond it ends the least recently used.',
    ),
  SEKISHO_MCP_SESSIONS_MAX: count(1, 1_000_000)
    .default(10_000)
    .describe(
      'Open sessions on this server (all users); an initialize beyond it is answered 503 with Retry-After.',
    ),
  SEKISHO_MCP_SESSION_EVENTS: count(1, 100_000)
    .default(256)
    .describe('Stream events a session keeps for resumption (Last-Event-ID); older ones are dropped first.'),
  SEKISHO_MCP_SESSION_EVENT_BYTES: count(1_024, 67_108_864)
    .default(1_048_576)
    .describe('Bytes of stream events a session keeps for resumption; older events are dropped first.'),
  SEKISHO_METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('Enables GET /metrics (Prometheus), readable only with `Authorization: Bearer <this token>`.'),
  SEKISHO_SWEEP_INTERVAL_SECONDS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be 0 (off) or more')
    .max(86_400, 'must be at most 86400')
    .default(300)
    .describe(
      'How often expired tokens, sessions and rate-limit windows are deleted (0 turns sweeping off).',
    ),
  SEKISHO_AUDIT_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be 0 (keep forever) or more')
    .max(36_500, 'must be at most 36500')
    .default(90)
    .describe(
      'How long audit records (sign-ins, consents, revocations, admin actions) are kept, in days; older ones are deleted at each sweep (0 keeps them forever).',
    ),
  SEKISHO_ACCESS_TOKEN_TTL_SECONDS: seconds(60, 86_400)
    .default(600)
    .describe('Lifetime of access tokens (JWT, audience /mcp). Short: clients refresh silently.'),
  SEKISHO_REFRESH_TOKEN_TTL_SECONDS: seconds(300, 31_536_000)
    .default(2_592_000)
    .describe('Idle lifetime of a refresh token; every refresh rotates it and starts a new period.'),
  SEKISHO_GRANT_TTL_SECONDS: seconds(300, 31_536_000)
    .default(7_776_000)
    .describe('Absolute lifetime of an authorization (grant); after it the user signs in again.'),
  SEKISHO_REFRESH_REUSE_GRACE_SECONDS: seconds(0, 60)
    .default(5)
    .describe(
      'A used refresh token presented again within this window is refused without revoking the grant (honest retries); later, reuse revokes the grant.',
    ),
  SEKISHO_CLIENT_IDLE_TTL_SECONDS: seconds(3_600, 31_536_000)
    .default(2_592_000)
    .describe('Dynamically registered clients unused for this long are deleted.'),
  SEKISHO_REGISTRATIONS_PER_HOUR: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100_000)
    .default(30)
    .describe('Dynamic client registrations accepted per client IP per hour (more → 429).'),
  SEKISHO_DEVICE_POLL_INTERVAL_SECONDS: seconds(1, 60)
    .default(5)
    .describe(
      'Device flow (RFC 8628): seconds a device must wait between token polls; polling sooner gets slow_down.',
    ),
  SEKISHO_ENTERPRISE_IDPS: enterpriseIdps
    .optional()
    .describe(
      'Enterprise identity providers whose Identity Assertion JWT Authorization Grants (ID-JAG, `typ: oauth-id-jag+jwt`) the token endpoint accepts with the jwt-bearer grant: a JSON array of `{issuer, jwks_uri | jwks, clients, users, jit_role}` (docs/grants.md). Unset: the grant is not offered.',
    ),
  SEKISHO_DPOP_NONCES: flag
    .default(false)
    .describe(
      'Require server-provided DPoP nonces (RFC 9449 §8, §9) at the token endpoint and /mcp: a DPoP proof without a recent nonce is answered use_dpop_nonce with a DPoP-Nonce header to retry with. Nonces derive from the signing keys and the minute, so every instance accepts every other’s without shared state.',
    ),
  SEKISHO_LOGIN_ATTEMPTS_PER_ACCOUNT_IP: count(1, 1_000)
    .default(5)
    .describe(
      'Sign-in attempts per (username, client IP) per login window (more → 429); a successful sign-in clears it. Never locks the account for other addresses.',
    ),
  SEKISHO_LOGIN_FAILURES_PER_IP: count(1, 100_000)
    .default(20)
    .describe('Failed sign-ins per client IP per login window, across usernames (more → 429).'),
  SEKISHO_LOGIN_WINDOW_SECONDS: seconds(60, 86_400)
    .default(900)
    .describe('Length of the sign-in throttling window.'),
  SEKISHO_LOGIN_DELAY_AFTER_FAILURES: count(1, 1_000)
    .default(5)
    .describe(
      'Failures of one username (from any IP) in the window after which each further attempt waits: 250 ms, doubling, up to SEKISHO_LOGIN_MAX_DELAY_MS.',
    ),
  SEKISHO_LOGIN_MAX_DELAY_MS: count(0, 30_000)
    .default(2_000)
    .describe('Longest progressive sign-in delay in ms (0 turns delays off).'),
  SEKISHO_PASSWORD_HASH_CONCURRENCY: count(0, 64)
    .default(0)
    .describe(
      'Password hashes (scrypt, 32 MiB each) computed at once, each on its own worker thread; 0 = half the CPU cores, at least 1.',
    ),
  SEKISHO_PASSWORD_HASH_QUEUE: count(0, 10_000)
    .default(8)
    .describe(
      'Sign-ins allowed to wait for a hashing slot; more at once are answered 503 with Retry-After, so an admitted sign-in waits at most about (queue / concurrency + 1) hash times.',
    ),
  SEKISHO_CIMD_ALLOW_HOSTS: list
    .optional()
    .describe(
      'Development only: host[:port] values whose client ID metadata documents may be fetched although they resolve to private or loopback addresses (loopback ones over http).',
    ),
  SEKISHO_KEY_OVERLAP_SECONDS: seconds(600, 31_536_000)
    .default(86_400)
    .describe(
      'After `sekisho keys rotate`, how long the previous signing key stays published in JWKS (at least the access-token lifetime is always used).',
    ),
  SEKISHO_KEY_CHECK_SECONDS: seconds(1, 3_600)
    .default(30)
    .describe(
      'How often a running server re-reads the signing keys from storage, so a rotation by the CLI or another instance signs here within this bound even without Redis (with Redis it is taken up at once).',
    ),
  SEKISHO_GATE_CACHE_SIZE: count(0, 1_000_000)
    .default(10_000)
    .describe(
      'How many (grant, user) pairs the /mcp gate keeps in memory, so an authenticated request reads no storage; dropped at once when a grant is revoked or a user changed (docs/security.md states the bounds). 0 reads storage on every request.',
    ),
  SEKISHO_REDIS_URL: z
    .string()
    .refine(isRedisUrl, { error: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0' })
    .optional()
    .describe(
      'Redis for state every instance must share but need not keep: throttles, replay caches, and the fan-out of revocations and key rotations. Required for more than one instance.',
    ),
  SEKISHO_REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 : _ . -')
    .default('sekisho:')
    .describe('Prefix of every Redis key and channel, so several deployments can share one Redis.'),
  SEKISHO_LOCAL_LOGIN: flag
    .default(true)
    .describe(
      'Local password sign-in on the login and account pages; 0 leaves only the upstream providers (needs at least one).',
    ),
  SEKISHO_UPSTREAM_ISSUER: z
    .string()
    .optional()
    .describe(
      'Issuer of an upstream OpenID provider users sign in with (https; docs/identity.md). Needs SEKISHO_UPSTREAM_CLIENT_ID and SEKISHO_UPSTREAM_CLIENT_SECRET.',
    ),
  SEKISHO_UPSTREAM_CLIENT_ID: z
    .string()
    .optional()
    .describe('Client id Sekisho was registered with at the upstream provider.'),
  SEKISHO_UPSTREAM_CLIENT_SECRET: z
    .string()
    .optional()
    .describe('Client secret for SEKISHO_UPSTREAM_CLIENT_ID (never logged).'),
  SEKISHO_UPSTREAM_NAME: z
    .string()
    .optional()
    .describe('Name on the "Sign in with <name>" button. Default: the preset\'s (Google, Microsoft, Okta…).'),
  SEKISHO_UPSTREAM_SCOPES: z
    .string()
    .optional()
    .describe(
      "Scopes asked of the upstream provider (space or comma separated; must include openid). Default: the preset's.",
    ),
  SEKISHO_UPSTREAM_PRESET: z
    .string()
    .optional()
    .describe('google, entra, okta, auth0, keycloak or generic. Default: guessed from the issuer.'),
  SEKISHO_UPSTREAM_GROUPS_CLAIM: z
    .string()
    .optional()
    .describe(
      "Claims read as the user's groups/roles (comma separated, dotted paths for nested ones, e.g. realm_access.roles). Default: the preset's.",
    ),
  SEKISHO_UPSTREAM_ADMIN_GROUPS: z
    .string()
    .optional()
    .describe(
      'Users whose groups/roles contain one of these (comma separated) become admins. Default: sekisho-admins (Entra ID: the app role Sekisho.Admin; Google: none).',
    ),
  SEKISHO_UPSTREAM_USER_GROUPS: z
    .string()
    .optional()
    .describe('Users whose groups/roles contain one of these (comma separated) become users.'),
  SEKISHO_UPSTREAM_ALLOWED_DOMAINS: z
    .string()
    .optional()
    .describe(
      'When set, only users whose verified e-mail is in one of these domains (comma separated) may sign in.',
    ),
  SEKISHO_UPSTREAM_DEFAULT_ROLE: z
    .string()
    .optional()
    .describe('Role of an admitted user no group rule matched: user (default), admin, or none (refused).'),
  SEKISHO_UPSTREAMS: z
    .string()
    .optional()
    .describe(
      'Several upstream providers: a JSON array (normally in the config file) of {issuer, clientId, clientSecret, name?, id?, preset?, scopes?, groupsClaim?, adminGroups?, userGroups?, allowedDomains?, defaultRole?}.',
    ),
  SEKISHO_CONFIG_FILE: z.string().optional().describe('Optional JSON file with any of these keys.'),
  SEKISHO_PROFILE: z
    .enum(['default', 'conformance'])
    .default('default')
    .describe('`conformance` adds the official conformance-suite fixture tools (tests only).'),
  ...externalIssuerSettings,
});

/** A URL whose scheme selects the PostgreSQL backend. Never echoed in messages: it may hold a password. */
function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** redis://[user:password@]host[:port][/db] or rediss:// (TLS); db a number when given. */
function isRedisUrl(value: string): boolean {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') return false;
  if (url.search || url.hash) return false;
  const db = url.pathname.replace(/^\//, '');
  return db === '' || /^\d{1,2}$/.test(db);
}

export type RawEnv = z.input<typeof envSchema>;
