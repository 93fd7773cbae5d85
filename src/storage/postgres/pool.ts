/**
 * The PostgreSQL connection pool and the one translation of driver failures into storage errors.
 *
 * Every query is bounded twice: `statement_timeout` on the server and `query_timeout` on the client
 * (the server cannot cancel a query it never received, e.g. when the network drops), and a new
 * connection must open within `connectTimeoutMs`. So a request waiting on the database fails as
 * `StorageUnavailableError` within a known time instead of hanging; the pool reconnects on its own.
 */
import pg from 'pg';
import type { PostgresSettings } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import { DuplicateError, StorageUnavailableError } from '../errors.ts';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

const INT8_OID = 20;

/** bigint columns hold ms since the epoch, far inside Number's exact range: read them as numbers. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid);
  },
} as unknown as pg.CustomTypesConfig;

export type PoolSettings = Pick<
  PostgresSettings,
  'url' | 'poolSize' | 'statementTimeoutMs' | 'connectTimeoutMs'
> & {
  readonly schema?: string | undefined;
};

export function createPool(settings: PoolSettings, logger?: Logger): PgPool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: settings.statementTimeoutMs,
    lock_timeout: settings.statementTimeoutMs,
    // Client-side bound slightly past the server's, for when the server never answers at all.
    query_timeout: settings.statementTimeoutMs + 1_000,
    keepAlive: true,
    application_name: 'sekisho',
    ...(settings.schema ? { options: `-c search_path=${settings.schema}` } : {}),
    types,
  });
  // An idle connection that dies (database restart, network cut) is reported here; without a
  // listener it would crash the process. The pool drops it and opens a new one when needed.
  pool.on('error', (err) => {
    logger?.warn({ reason: describePgError(err) }, 'postgres connection lost');
  });
  return pool;
}

/** SQLSTATE classes and codes that mean "try again later", not "your request is wrong". */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]|57014|40001|40P01|55P03)/;
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TRANSIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error and is not queryable|Connection terminated due to connection timeout/i;

export function isTransient(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (TRANSIENT_NODE_CODES.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE.test(code)) return true;
  return typeof e.message === 'string' && TRANSIENT_MESSAGES.test(e.message);
}

/** A short reason for logs and messages: a code or the driver's message, never connection details. */
export function describePgError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Driver error → storage error: transient → StorageUnavailableError; unique violation → DuplicateError. */
export function toStorageError(error: unknown, duplicateField?: (constraint: string) => string): unknown {
  if (error instanceof StorageUnavailableError || error instanceof DuplicateError) return error;
  if (isTransient(error)) {
    return new StorageUnavailableError(`PostgreSQL is unavailable (${describePgError(error)})`, {
      cause: error,
    });
  }
  const e = error as { code?: string; constraint?: string };
  if (e?.code === '23505' && duplicateField) return new DuplicateError(duplicateField(e.constraint ?? ''));
  return error;
}

/** One statement through the pool; named statements are prepared once per connection. */
export async function query<R extends pg.QueryResultRow>(
  pool: PgPool,
  text: string,
  values: readonly unknown[],
  name?: string,
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(name ? { name, text, values: [...values] } : { text, values: [...values] });
  } catch (error) {
    throw toStorageError(error);
  }
}

/** Runs `work` in one transaction on one connection; any failure rolls back everything. */
export async function transaction<T>(pool: PgPool, work: (client: PgClient) => Promise<T>): Promise<T> {
  let client: PgClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toStorageError(error);
  }
  let broken: unknown;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError;
    });
    throw toStorageError(error);
  } finally {
    // A connection whose rollback failed is in an unknown state: destroy it rather than reuse it.
    client.release(broken instanceof Error ? broken : undefined);
  }
}
