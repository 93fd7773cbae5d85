/**
 * The PostgreSQL backend, for several Sekisho instances sharing one database. A pool of connections
 * per process (SEKISHO_DATABASE_POOL_SIZE), every query bounded in time (pool.ts), migrations applied
 * on open under an advisory lock (migrations.ts). At start an unreachable database is retried with
 * backoff for `startupTimeoutSeconds`; afterwards outages surface as `StorageUnavailableError` (503 at
 * the edge, `/readyz` 503) and the pool reconnects by itself when the database is back.
 */
import type { PostgresSettings } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import { SchemaVersionError, StorageOpenError, StorageUnavailableError } from '../errors.ts';
import type { SchemaStatus } from '../schema-status.ts';
import type { Storage } from '../types.ts';
import { createPostgresAuditStore } from './audit-store.ts';
import { createPostgresExternalIdentityStore } from './external-identity-store.ts';
import { createPostgresGateStore } from './gate-store.ts';
import { createPostgresKeyStore } from './key-store.ts';
import { describeLocation } from './location.ts';
import { migratePostgres, postgresSchemaStatus } from './migrations.ts';
import { createPostgresOidcStore } from './oidc-store.ts';
import { createPool, describePgError, isTransient, type PgPool, query } from './pool.ts';
import { createPostgresRateLimitStore } from './rate-limit-store.ts';
import { createPostgresUserStore } from './user-store.ts';

export { describeLocation };

export interface PostgresStorageOptions extends Partial<Omit<PostgresSettings, 'url'>> {
  readonly url: string;
  readonly logger?: Logger;
  /** Clock in ms since the epoch (tests move it to check expiry). */
  readonly now?: () => number;
  /** False: open without applying migrations (`sekisho db status`). */
  readonly migrate?: boolean;
}

export interface PostgresStorage extends Storage {
  readonly backend: 'postgres';
  /** host:port/database — never the credentials. */
  readonly location: string;
  /** The pool, for the copy command and tests. */
  readonly pool: PgPool;
  schemaStatus(): Promise<SchemaStatus>;
  migrate(): Promise<number[]>;
}

export const POSTGRES_DEFAULTS = {
  poolSize: 10,
  statementTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  startupTimeoutSeconds: 30,
} as const;

export async function openPostgresStorage(options: PostgresStorageOptions): Promise<PostgresStorage> {
  const settings = { ...POSTGRES_DEFAULTS, ...definedOnly(options), url: options.url };
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const pool = createPool(settings, logger);
  const location = describeLocation(options.url, settings.schema);
  const migrate = () => migratePostgres(pool, { schema: settings.schema, ...(logger ? { logger } : {}) });
  try {
    await untilReachable<unknown>(
      options.migrate === false ? () => query(pool, 'SELECT 1', []) : migrate,
      settings.startupTimeoutSeconds * 1000,
      (attempt, delayMs, reason) =>
        logger?.warn(
          { attempt, retryInMs: delayMs, reason, database: location },
          'postgres unreachable; retrying',
        ),
    );
  } catch (error) {
    await pool.end().catch(() => {});
    if (error instanceof StorageUnavailableError) {
      throw new StorageUnavailableError(
        `cannot reach PostgreSQL at ${location} (SEKISHO_DATABASE_URL): ${describePgError(error.cause ?? error)}`,
      );
    }
    if (error instanceof SchemaVersionError) throw error;
    throw new StorageOpenError(
      `cannot use PostgreSQL at ${location} (SEKISHO_DATABASE_URL): ${describePgError(error)}`,
      { cause: error },
    );
  }

  const sweepSql = `
    WITH a AS (DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= $1 RETURNING 1),
         b AS (DELETE FROM rate_limits WHERE expires_at <= $1 RETURNING 1)
    SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) AS removed`;
  let closing: Promise<void> | undefined;
  return {
    backend: 'postgres',
    location,
    pool,
    ...createPostgresOidcStore(pool, now),
    ...createPostgresUserStore(pool, now),
    ...createPostgresExternalIdentityStore(pool, now),
    ...createPostgresKeyStore(pool),
    ...createPostgresRateLimitStore(pool, now),
    ...createPostgresAuditStore(pool),
    ...createPostgresGateStore(pool, now),
    async sweep() {
      const result = await query<{ removed: number }>(pool, sweepSql, [now()]);
      return Number(result.rows[0]?.removed ?? 0);
    },
    async ping() {
      if (closing) throw new StorageUnavailableError('storage is closed');
      await query(pool, 'SELECT 1', [], 'sekisho_ping');
    },
    schemaStatus: () => postgresSchemaStatus(pool),
    migrate,
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}

/**
 * Runs `attempt` until it succeeds, retrying only transient failures (connection refused, timeouts,
 * the server starting up) with doubling delays (0.25 s … 5 s) until `budgetMs` is spent. Anything
 * else (wrong password, missing database, a newer schema) fails at once.
 */
export async function untilReachable<T>(
  attempt: () => Promise<T>,
  budgetMs: number,
  onRetry?: (attempt: number, delayMs: number, reason: string) => void,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let delay = 250;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const transient = error instanceof StorageUnavailableError || isTransient(error);
      if (!transient) throw error;
      const wait = Math.min(delay, deadline - Date.now());
      if (wait <= 0) {
        throw error instanceof StorageUnavailableError
          ? error
          : new StorageUnavailableError(describePgError(error), { cause: error });
      }
      onRetry?.(n, wait, describePgError(error));
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** `host:port/database[ schema]` for messages and logs: the URL without user, password or options. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
