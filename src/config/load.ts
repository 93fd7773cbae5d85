/**
 * Reads the environment (and the optional JSON config file), validates it once against `schema.ts`
 * and returns a frozen `Config`. Bad settings become a `ConfigError` naming the key, which `main.ts`
 * prints and turns into exit code 2 — never a stack trace.
 */
import { readFileSync } from 'node:fs';
import type { Config, ExternalIssuerSettings } from './config.ts';
import { envSchema } from './schema.ts';
import { parseUpstreams } from './upstreams.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const LOOPBACK = new Set(LOCAL_HOSTS);

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const merged = { ...readConfigFile(env.SEKISHO_CONFIG_FILE), ...pickDefined(env) };
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const raw = parsed.data;
  const upstream = parseUpstreams(raw);
  if (upstream.problems.length > 0) throw new ConfigError(upstream.problems);
  if (raw.SEKISHO_EXTERNAL_ISSUER && upstream.providers.length > 0) {
    throw new ConfigError([
      'SEKISHO_UPSTREAM_ISSUER / SEKISHO_UPSTREAMS: upstream sign-in needs the built-in authorization server, which SEKISHO_EXTERNAL_ISSUER turns off; configure the upstream provider at the external authorization server instead',
    ]);
  }
  if (!raw.SEKISHO_LOCAL_LOGIN && upstream.providers.length === 0 && !raw.SEKISHO_EXTERNAL_ISSUER) {
    throw new ConfigError([
      'SEKISHO_LOCAL_LOGIN: is 0 but no upstream provider is configured (SEKISHO_UPSTREAM_ISSUER or SEKISHO_UPSTREAMS), so nobody could sign in',
    ]);
  }
  const baseUrl = normaliseBaseUrl(raw.SEKISHO_BASE_URL ?? `http://localhost:${raw.PORT}`);
  const base = new URL(baseUrl);
  const demo = raw.SEKISHO_DEMO;
  return Object.freeze({
    host: raw.HOST,
    port: raw.PORT,
    baseUrl,
    baseUrlFromPort: raw.SEKISHO_BASE_URL === undefined,
    allowedHosts: Object.freeze(
      unique([...LOCAL_HOSTS, base.hostname, ...(raw.SEKISHO_ALLOWED_HOSTS ?? [])]),
    ),
    allowedOrigins: Object.freeze(
      unique([...LOCAL_HOSTS, base.hostname, ...(raw.SEKISHO_ALLOWED_ORIGINS ?? []).map(originHostname)]),
    ),
    logLevel: raw.SEKISHO_LOG_LEVEL,
    dataDir: raw.SEKISHO_DATA_DIR,
    database:
      raw.SEKISHO_DATABASE_URL === undefined
        ? undefined
        : Object.freeze({
            url: raw.SEKISHO_DATABASE_URL,
            schema: raw.SEKISHO_DATABASE_SCHEMA,
            poolSize: raw.SEKISHO_DATABASE_POOL_SIZE,
            statementTimeoutMs: raw.SEKISHO_DATABASE_STATEMENT_TIMEOUT_MS,
            connectTimeoutMs: raw.SEKISHO_DATABASE_CONNECT_TIMEOUT_MS,
            startupTimeoutSeconds: raw.SEKISHO_DATABASE_STARTUP_TIMEOUT_SECONDS,
          }),
    demo,
    anonymous: raw.SEKISHO_ANONYMOUS ?? demo,
    maxBodyBytes: raw.SEKISHO_MAX_BODY_BYTES,
    shutdownGraceMs: raw.SEKISHO_SHUTDOWN_GRACE_MS,
    sweepIntervalSeconds: raw.SEKISHO_SWEEP_INTERVAL_SECONDS,
    auditRetentionDays: raw.SEKISHO_AUDIT_RETENTION_DAYS,
    keyOverlapSeconds: raw.SEKISHO_KEY_OVERLAP_SECONDS,
    keyCheckSeconds: raw.SEKISHO_KEY_CHECK_SECONDS,
    gateCacheSize: raw.SEKISHO_GATE_CACHE_SIZE,
    redisUrl: raw.SEKISHO_REDIS_URL,
    redisKeyPrefix: raw.SEKISHO_REDIS_KEY_PREFIX,
    profile: raw.SEKISHO_PROFILE,
    metricsToken: raw.SEKISHO_METRICS_TOKEN,
    fastLane: raw.SEKISHO_FAST_LANE,
    // Sessions live in this process: several instances (Redis) serve 2025-era clients statelessly
    // unless the operator turns sessions on (with sticky routing).
    mcpSessions:
      (raw.SEKISHO_MCP_SESSIONS ?? true)
        ? Object.freeze({
            idleSeconds: raw.SEKISHO_MCP_SESSION_IDLE_SECONDS,
            perUser: raw.SEKISHO_MCP_SESSIONS_PER_USER,
            max: raw.SEKISHO_MCP_SESSIONS_MAX,
            events: raw.SEKISHO_MCP_SESSION_EVENTS,
            eventBytes: raw.SEKISHO_MCP_SESSION_EVENT_BYTES,
          })
        : undefined,
    accessTokenTtlSeconds: raw.SEKISHO_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: raw.SEKISHO_REFRESH_TOKEN_TTL_SECONDS,
    grantTtlSeconds: raw.SEKISHO_GRANT_TTL_SECONDS,
    refreshReuseGraceSeconds: raw.SEKISHO_REFRESH_REUSE_GRACE_SECONDS,
    clientIdleTtlSeconds: raw.SEKISHO_CLIENT_IDLE_TTL_SECONDS,
    registrationsPerHour: raw.SEKISHO_REGISTRATIONS_PER_HOUR,
    devicePollIntervalSeconds: raw.SEKISHO_DEVICE_POLL_INTERVAL_SECONDS,
    login: Object.freeze({
      attemptsPerAccountIp: raw.SEKISHO_LOGIN_ATTEMPTS_PER_ACCOUNT_IP,
      failuresPerIp: raw.SEKISHO_LOGIN_FAILURES_PER_IP,
      windowSeconds: raw.SEKISHO_LOGIN_WINDOW_SECONDS,
      delayAfterFailures: raw.SEKISHO_LOGIN_DELAY_AFTER_FAILURES,
      maxDelayMs: raw.SEKISHO_LOGIN_MAX_DELAY_MS,
    }),
    passwordHash: Object.freeze({
      concurrency: raw.SEKISHO_PASSWORD_HASH_CONCURRENCY,
      queue: raw.SEKISHO_PASSWORD_HASH_QUEUE,
    }),
    cimdAllowHosts: Object.freeze((raw.SEKISHO_CIMD_ALLOW_HOSTS ?? []).map((h) => h.toLowerCase())),
    dpopNonces: raw.SEKISHO_DPOP_NONCES,
    enterpriseIdps: Object.freeze(
      (raw.SEKISHO_ENTERPRISE_IDPS ?? []).map((idp) =>
        Object.freeze({
          issuer: idp.issuer,
          jwksUri: idp.jwks_uri,
          jwks: idp.jwks,
          clients: Object.freeze([...idp.clients]),
          users: idp.users,
          jitRole: idp.jit_role,
        }),
      ),
    ),
    localLogin: raw.SEKISHO_LOCAL_LOGIN,
    upstreams: Object.freeze(upstream.providers),
    externalIssuer: externalIssuerSettings(raw, merged),
  });
}

type ParsedEnv = ReturnType<typeof envSchema.parse>;

/**
 * Resource-server-only mode: the external issuer's settings, checked as a whole. Every problem names
 * the key to fix. Without SEKISHO_EXTERNAL_ISSUER none of the other SEKISHO_EXTERNAL_* keys may be
 * set — a forgotten issuer must not leave an operator believing tokens are checked a certain way.
 */
function externalIssuerSettings(
  raw: ParsedEnv,
  given: Record<string, string>,
): ExternalIssuerSettings | undefined {
  const issuer = raw.SEKISHO_EXTERNAL_ISSUER;
  if (issuer === undefined) {
    const stray = Object.keys(given).filter((k) => k.startsWith('SEKISHO_EXTERNAL_'));
    if (stray.length > 0) {
      throw new ConfigError(
        stray.map((k) => `${k}: needs SEKISHO_EXTERNAL_ISSUER (resource-server-only mode)`),
      );
    }
    return undefined;
  }
  const problems: string[] = [];
  if ((raw.SEKISHO_ENTERPRISE_IDPS ?? []).length > 0) {
    // ID-JAG assertions are redeemed at the built-in authorization server's token endpoint.
    problems.push(
      'SEKISHO_ENTERPRISE_IDPS: needs the built-in authorization server; unset it with SEKISHO_EXTERNAL_ISSUER',
    );
  }
  if (raw.SEKISHO_DPOP_NONCES) {
    // The nonce keys derive from the built-in authorization server's signing keys.
    problems.push(
      'SEKISHO_DPOP_NONCES: needs the built-in authorization server; unset it with SEKISHO_EXTERNAL_ISSUER',
    );
  }
  if (raw.SEKISHO_DEMO) {
    // Demo mode's accounts and quick_login live in the built-in authorization server, which is off.
    problems.push(
      'SEKISHO_DEMO: demo mode needs the built-in authorization server; set SEKISHO_DEMO=0 with SEKISHO_EXTERNAL_ISSUER',
    );
  }
  const url = new URL(issuer);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    problems.push('SEKISHO_EXTERNAL_ISSUER: must use https (http only for localhost, for development)');
  }
  if (url.search || url.hash || url.username || url.password) {
    problems.push('SEKISHO_EXTERNAL_ISSUER: must not contain credentials, a query or a fragment');
  }
  const id = raw.SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID;
  const secret = raw.SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET;
  if (id !== undefined && secret === undefined) {
    problems.push(
      'SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET: needed with SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID',
    );
  }
  if (secret !== undefined && id === undefined) {
    problems.push(
      'SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: needed with SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET',
    );
  }
  if (raw.SEKISHO_EXTERNAL_TOKEN_VERIFICATION === 'introspection' && id === undefined) {
    problems.push(
      'SEKISHO_EXTERNAL_TOKEN_VERIFICATION: introspection needs SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID and _SECRET',
    );
  }
  const adminValues = raw.SEKISHO_EXTERNAL_ADMIN_VALUES ?? [];
  if (adminValues.length > 0 && raw.SEKISHO_EXTERNAL_ROLE_CLAIM === undefined) {
    problems.push(
      'SEKISHO_EXTERNAL_ADMIN_VALUES: needs SEKISHO_EXTERNAL_ROLE_CLAIM (the claim they are read from)',
    );
  }
  if (raw.SEKISHO_EXTERNAL_ALGORITHMS !== undefined && raw.SEKISHO_EXTERNAL_ALGORITHMS.length === 0) {
    problems.push('SEKISHO_EXTERNAL_ALGORITHMS: must name at least one algorithm');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    issuer,
    extraAudiences: Object.freeze([...new Set(raw.SEKISHO_EXTERNAL_AUDIENCES ?? [])]),
    verification: raw.SEKISHO_EXTERNAL_TOKEN_VERIFICATION,
    introspectionClient: id !== undefined && secret !== undefined ? Object.freeze({ id, secret }) : undefined,
    introspectionCacheSeconds: raw.SEKISHO_EXTERNAL_INTROSPECTION_CACHE_SECONDS,
    roleClaim: raw.SEKISHO_EXTERNAL_ROLE_CLAIM,
    adminValues: Object.freeze([...adminValues]),
    algorithms:
      raw.SEKISHO_EXTERNAL_ALGORITHMS === undefined
        ? undefined
        : Object.freeze([...new Set(raw.SEKISHO_EXTERNAL_ALGORITHMS)]),
    clockSkewSeconds: raw.SEKISHO_EXTERNAL_CLOCK_SKEW_SECONDS,
    timeoutMs: raw.SEKISHO_EXTERNAL_TIMEOUT_MS,
    startupTimeoutSeconds: raw.SEKISHO_EXTERNAL_STARTUP_TIMEOUT_SECONDS,
  });
}

/** Returns a copy of `config` whose port-derived base URL follows the port actually bound (PORT=0). */
export function withBoundPort(config: Config, port: number): Config {
  if (!config.baseUrlFromPort || config.port === port) return config;
  return Object.freeze({ ...config, port, baseUrl: normaliseBaseUrl(`http://localhost:${port}`) });
}

/**
 * One canonical form for the issuer: lower-case scheme and host, no default port, no trailing slash,
 * no query or fragment. Clients compare issuer and PRM values character by character.
 */
export function normaliseBaseUrl(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError([`SEKISHO_BASE_URL: must use http or https, got ${url.protocol}`]);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError(['SEKISHO_BASE_URL: must not contain credentials, a query or a fragment']);
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

function originHostname(origin: string): string {
  if (origin.endsWith('://*')) return origin;
  try {
    return new URL(origin).hostname; // WHATWG keeps IPv6 brackets, as the SDK guard expects
  } catch {
    return origin;
  }
}

function readConfigFile(path: string | undefined): Record<string, string> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `SEKISHO_CONFIG_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`,
    ]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ConfigError([`SEKISHO_CONFIG_FILE: ${path} is not valid JSON`]);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([`SEKISHO_CONFIG_FILE: ${path} must hold a JSON object of KEY: value`]);
  }
  const known = new Set(Object.keys(envSchema.shape));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!known.has(key)) throw new ConfigError([`${key}: unknown key in ${path}`]);
    // Structured settings (SEKISHO_ENTERPRISE_IDPS) stay JSON text, exactly as the environment gives them.
    const structured =
      typeof value === 'object' && value !== null && (!Array.isArray(value) || value.some(isObject));
    out[key] = structured ? JSON.stringify(value) : Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

function pickDefined(env: Record<string, string | undefined>): Record<string, string> {
  const known = Object.keys(envSchema.shape);
  const out: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function unique(values: string[]): string[] {
  return [...new Set(values.map((v) => v.toLowerCase()))];
}
