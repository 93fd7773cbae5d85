import type { UpstreamProvider } from './upstreams.ts';

/** The normalised, frozen configuration every other module receives. Nobody reads process.env later. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** Public base URL without a trailing slash, e.g. `https://mcp.example.com`. It is the OAuth issuer. */
  readonly baseUrl: string;
  /** True when the base URL was derived from the port (so it must follow the port actually bound). */
  readonly baseUrlFromPort: boolean;
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly dataDir: string;
  /** PostgreSQL settings when SEKISHO_DATABASE_URL is set; undefined = SQLite under `dataDir`. */
  readonly database: PostgresSettings | undefined;
  readonly demo: boolean;
  readonly anonymous: boolean;
  readonly maxBodyBytes: number;
  readonly shutdownGraceMs: number;
  /** Seconds between sweeps of expired storage rows; 0 = never. */
  readonly sweepIntervalSeconds: number;
  /** Days audit records are kept (0: forever). */
  readonly auditRetentionDays: number;
  /** Seconds between re-reads of the signing keys from storage (rotation by another process). */
  readonly keyCheckSeconds: number;
  /** Grants + users the /mcp gate keeps in memory (resource/grant-cache.ts); 0 reads storage every request. */
  readonly gateCacheSize: number;
  /** Redis for shared ephemeral state and fan-out; undefined = one process, in-process state. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and pub/sub channel. */
  readonly redisKeyPrefix: string;
  /** How long a rotated-out signing key stays published (never less than the access-token TTL). */
  readonly keyOverlapSeconds: number;
  readonly profile: 'default' | 'conformance';
  /** Authorization server lifetimes and limits (docs/authorization-server.md explains each default). */
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly grantTtlSeconds: number;
  readonly refreshReuseGraceSeconds: number;
  readonly clientIdleTtlSeconds: number;
  readonly registrationsPerHour: number;
  /** Device flow: the polling interval devices are told, and held to (slow_down). */
  readonly devicePollIntervalSeconds: number;
  /** Sign-in throttling (identity/users.ts explains each limit). */
  readonly login: {
    readonly attemptsPerAccountIp: number;
    readonly failuresPerIp: number;
    readonly windowSeconds: number;
    readonly delayAfterFailures: number;
    readonly maxDelayMs: number;
  };
  /** The password-hashing pool (identity/hash-pool.ts); concurrency 0 = half the cores. */
  readonly passwordHash: { readonly concurrency: number; readonly queue: number };
  /** Development only: CIMD hosts exempt from the private-address rule (loopback ones over http). */
  readonly cimdAllowHosts: readonly string[];
  /** Require server-provided DPoP nonces at the token endpoint and /mcp (RFC 9449 §8, §9). */
  readonly dpopNonces: boolean;
  /** Enterprise IdPs whose ID-JAG assertions the jwt-bearer grant accepts (empty: grant not offered). */
  readonly enterpriseIdps: readonly EnterpriseIdp[];
  /** Bearer token that unlocks /metrics; /metrics does not exist without it. */
  readonly metricsToken: string | undefined;
  /** Serve the hottest /mcp requests on the fast lane (src/mcp/fast-lane/); false = full pipeline only. */
  readonly fastLane: boolean;
  /** Password sign-in on the login and account pages (SEKISHO_LOCAL_LOGIN). */
  readonly localLogin: boolean;
  /** Upstream OpenID providers users may sign in with (docs/identity.md); empty = none. */
  readonly upstreams: readonly UpstreamProvider[];
  /**
   * Resource-server-only mode (SEKISHO_EXTERNAL_ISSUER): tokens come from this external authorization
   * server and the built-in one is off. Undefined = Sekisho is its own authorization server.
   */
  readonly externalIssuer: ExternalIssuerSettings | undefined;
  /** 2025-era sessions (src/mcp/sessions/); undefined = 2025-era clients are served statelessly. */
  readonly mcpSessions: McpSessionSettings | undefined;
}

/** Limits of 2025-era MCP sessions (docs/configuration.md explains each). */
export interface McpSessionSettings {
  readonly idleSeconds: number;
  readonly perUser: number;
  readonly max: number;
  readonly events: number;
  readonly eventBytes: number;
}

/** How /mcp checks tokens of an external authorization server (resource/external/, docs/identity.md). */
export interface ExternalIssuerSettings {
  /** The issuer identifier, exactly as configured (compared character for character with `iss`). */
  readonly issuer: string;
  /** Audiences accepted besides `<base>/mcp` (for servers without RFC 8707); empty normally. */
  readonly extraAudiences: readonly string[];
  readonly verification: 'auto' | 'jwt' | 'introspection';
  /** The RFC 7662 client; undefined = no introspection. The secret is never logged. */
  readonly introspectionClient: { readonly id: string; readonly secret: string } | undefined;
  readonly introspectionCacheSeconds: number;
  /** Claim with the caller's roles or groups; undefined = every caller is a `user`. */
  readonly roleClaim: string | undefined;
  /** Values of `roleClaim` that make the caller an admin. */
  readonly adminValues: readonly string[];
  /** Accepted signing algorithms; undefined = derived from the issuer's metadata. */
  readonly algorithms: readonly string[] | undefined;
  readonly clockSkewSeconds: number;
  readonly timeoutMs: number;
  readonly startupTimeoutSeconds: number;
}

/** A trusted enterprise identity provider (Enterprise-Managed Authorization, ID-JAG). */
export interface EnterpriseIdp {
  /** Its issuer identifier: the assertions' `iss`, compared exactly. */
  readonly issuer: string;
  /** Where its signing keys are published (https; http only on loopback) — or `jwks`. */
  readonly jwksUri: string | undefined;
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] } | undefined;
  /** Our client_ids allowed to present its assertions (each must also hold the jwt-bearer grant). */
  readonly clients: readonly string[];
  /**
   * `linked`: only a (issuer, sub) an operator linked to a local user (`sekisho users link`);
   * `jit`: an unknown subject gets a new local user with `jitRole`, linked on first use.
   */
  readonly users: 'linked' | 'jit';
  readonly jitRole: 'admin' | 'user';
}

/** How to reach PostgreSQL (storage/postgres/). `url` may hold a password: never log it. */
export interface PostgresSettings {
  readonly url: string;
  /** Schema for the tables (created if missing); undefined = the server's search_path. */
  readonly schema: string | undefined;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** How long start-up retries an unreachable database before giving up (0 = once). */
  readonly startupTimeoutSeconds: number;
}

/** The canonical MCP endpoint URL: the RFC 8707 resource and the `aud` of our access tokens. */
export function mcpResourceUrl(config: Pick<Config, 'baseUrl'>): string {
  return `${config.baseUrl}/mcp`;
}
