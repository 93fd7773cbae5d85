/**
 * The embedded SQLite backend: one file, `<dataDir>/sekisho.db`, shared safely by the server and the
 * `sekisho` CLI. WAL lets readers run beside the one writer; busy_timeout makes a second process wait
 * for the write lock instead of failing; statements are prepared once here and reused.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import DatabaseConstructor, { type Database } from 'better-sqlite3';
import type { Logger } from '../../observability/logger.ts';
import type { SchemaStatus } from '../schema-status.ts';
import type { Storage } from '../types.ts';
import { createSqliteAuditStore } from './audit-store.ts';
import { createSqliteExternalIdentityStore } from './external-identity-store.ts';
import { createSqliteGateStore } from './gate-store.ts';
import { createSqliteKeyStore } from './key-store.ts';
import { migrate, sqliteSchemaStatus } from './migrations.ts';
import { createSqliteOidcStore } from './oidc-store.ts';
import { createSqliteRateLimitStore } from './rate-limit-store.ts';
import { createSqliteUserStore } from './user-store.ts';

export const DB_FILE_NAME = 'sekisho.db';
/** WAL pages that trigger an automatic checkpoint (SQLite's default is 1,000). */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export interface SqliteStorageOptions {
  /** Folder for `sekisho.db`; created (mode 0700) if missing. */
  readonly dataDir?: string;
  /** Instead of `dataDir`: an explicit database file, or `':memory:'` (tests). */
  readonly path?: string;
  readonly logger?: Logger;
  /** Clock in ms since the epoch (tests move it to check expiry). */
  readonly now?: () => number;
  /** How long a writer waits for another process's lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
  /** False: open without applying migrations (`sekisho db status`). */
  readonly migrate?: boolean;
}

export interface SqliteStorage extends Storage {
  readonly backend: 'sqlite';
  /** The database file, for messages (':memory:' in tests). */
  readonly location: string;
  schemaStatus(): Promise<SchemaStatus>;
  migrate(): Promise<number[]>;
  /** The database file ('' for in-memory). */
  readonly file: string;
  /** The underlying handle, for tests and diagnostics only. */
  readonly db: Database;
}

export function sqliteFileFor(dataDir: string): string {
  return join(resolve(dataDir), DB_FILE_NAME);
}

export function openSqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  const now = options.now ?? Date.now;
  const file = resolveFile(options);
  const isNew = file !== '' && !existsSync(file);
  const db = new DatabaseConstructor(file === '' ? ':memory:' : file);
  try {
    if (isNew) chmodSync(file, 0o600); // holds signing keys and password hashes
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
    if (file !== '') db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    // A WAL checkpoint (the one place NORMAL fsyncs) runs inside whichever commit crosses this many
    // pages, on the serving thread. SQLite's default of 1,000 made one every ~150 refresh grants;
    // 10,000 (a WAL of up to ~40 MB) copies each hot page once per ten times as many commits: mean
    // insert time −30 to −50 %, CPU per write −20 %, in exchange for rarer, longer pauses
    // (docs/benchmarks.md). The last connection to close still checkpoints and removes the WAL.
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma('foreign_keys = ON');
    if (options.migrate !== false) migrate(db, options.logger);
  } catch (error) {
    db.close();
    throw error;
  }

  const oidc = createSqliteOidcStore(db, now);
  const users = createSqliteUserStore(db, now);
  const external = createSqliteExternalIdentityStore(db, now);
  const keys = createSqliteKeyStore(db);
  const limits = createSqliteRateLimitStore(db, now);
  const audit = createSqliteAuditStore(db);
  const sweepOidc = db.prepare('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= ?');
  const sweepLimits = db.prepare('DELETE FROM rate_limits WHERE expires_at <= ?');
  const sweep = db.transaction((t: number) => sweepOidc.run(t).changes + sweepLimits.run(t).changes);
  const ping = db.prepare('SELECT 1');
  // Changes when another connection (another process: the CLI, a second server) commits; cheap to poll.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let closed = false;

  return {
    backend: 'sqlite',
    location: file === '' ? ':memory:' : file,
    file,
    db,
    ...oidc,
    ...users,
    ...external,
    ...keys,
    ...limits,
    ...audit,
    ...createSqliteGateStore(db, now),
    dataVersion: () => dataVersion.get() as number,
    async sweep() {
      return sweep.immediate(now());
    },
    async ping() {
      ping.get();
    },
    async schemaStatus() {
      return sqliteSchemaStatus(db);
    },
    async migrate() {
      return migrate(db, options.logger);
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function resolveFile(options: SqliteStorageOptions): string {
  if (options.path !== undefined) {
    if (options.path === ':memory:') return '';
    return resolve(options.path);
  }
  if (options.dataDir === undefined) throw new TypeError('openSqliteStorage needs dataDir or path');
  const dir = resolve(options.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, DB_FILE_NAME);
}
