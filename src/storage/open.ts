/**
 * Opens the configured backend: PostgreSQL when SEKISHO_DATABASE_URL is set, else SQLite under
 * SEKISHO_DATA_DIR. The server, the CLI and the copy command all open storage here, so they always
 * agree on which database "the" database is.
 */
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { PostgresStorage } from './postgres/index.ts';
import { describeLocation } from './postgres/location.ts';
import { openSqliteStorage, type SqliteStorage, sqliteFileFor } from './sqlite/index.ts';

/** Storage plus what operators need from it: which backend, where, and its schema state. */
export type ManagedStorage = SqliteStorage | PostgresStorage;

export interface OpenOptions {
  readonly logger?: Logger;
  /** False: do not apply migrations (status only). */
  readonly migrate?: boolean;
}

export async function openStorage(
  config: Pick<Config, 'dataDir' | 'database'>,
  opts: OpenOptions = {},
): Promise<ManagedStorage> {
  if (config.database) {
    // Loaded only here: a server on SQLite never loads the pg driver (idle memory).
    const { openPostgresStorage } = await import('./postgres/index.ts');
    return openPostgresStorage({
      ...config.database,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.migrate === false ? { migrate: false } : {}),
    });
  }
  return openSqliteStorage({
    dataDir: config.dataDir,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.migrate === false ? { migrate: false } : {}),
  });
}

/** Where the configured storage lives, for messages: the SQLite file or PostgreSQL host:port/db. */
export function storageLocation(config: Pick<Config, 'dataDir' | 'database'>): string {
  if (!config.database) return sqliteFileFor(config.dataDir);
  return `postgres ${describeLocation(config.database.url, config.database.schema)}`;
}
