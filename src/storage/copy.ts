/**
 * `sekisho db copy`: moves a single box's SQLite database into PostgreSQL so it can become a cluster
 * without anyone signing in again — users, external identities, signing keys (so issued tokens keep
 * verifying and the cookie keys derived from them stay the same), clients, grants, live tokens, codes,
 * sessions and live rate-limit windows. Expired rows are left behind.
 *
 * Policy: the target must be empty (it is migrated first) and the whole copy is one transaction, so
 * a failure or an interruption leaves it empty and the command can simply be run again; a non-empty
 * target is refused rather than merged (two databases' signing keys and grants cannot be merged
 * safely). Both backends share one table layout, so rows move column for column.
 */
import { AUDIT_COLUMN_LIST } from './audit-rows.ts';
import { StorageOpenError } from './errors.ts';
import type { PostgresStorage } from './postgres/index.ts';
import { quoteIdent } from './postgres/migrations.ts';
import { transaction } from './postgres/pool.ts';
import type { SqliteStorage } from './sqlite/index.ts';

interface CopiedTable {
  readonly name: string;
  readonly columns: readonly string[];
  /** Rows worth keeping (`?` = now, ms): live ones only. */
  readonly live?: string;
}

/** In dependency order: users before the identities that reference them. */
export const COPIED_TABLES: readonly CopiedTable[] = [
  {
    name: 'users',
    columns: [
      'id',
      'username',
      'name',
      'email',
      'role',
      'password_hash',
      'created_at',
      'updated_at',
      'disabled_at',
    ],
  },
  {
    name: 'external_identities',
    columns: ['issuer', 'subject', 'user_id', 'claims', 'created_at', 'last_login_at'],
  },
  { name: 'signing_keys', columns: ['kid', 'private_jwk', 'created_at', 'rotated_at'] },
  {
    name: 'oidc_models',
    columns: [
      'model',
      'id',
      'payload',
      'grant_id',
      'uid',
      'user_code',
      'account_id',
      'client_id',
      'created_at',
      'expires_at',
      'consumed_at',
      'last_used_at',
    ],
    live: 'expires_at IS NULL OR expires_at > ?',
  },
  // The whole retained history: an operator's questions about last month do not end at the move.
  { name: 'audit_log', columns: AUDIT_COLUMN_LIST },
  {
    name: 'rate_limits',
    columns: ['key', 'window_start', 'count', 'expires_at'],
    live: 'expires_at > ?',
  },
];

/** The target already holds data; nothing was written. */
export class CopyTargetNotEmptyError extends StorageOpenError {}

export interface CopyReport {
  /** Rows copied per table. */
  readonly copied: Readonly<Record<string, number>>;
  /** Expired rows left behind. */
  readonly skipped: number;
}

const BATCH = 500;

export async function copySqliteToPostgres(
  source: SqliteStorage,
  target: PostgresStorage,
  now: number = Date.now(),
): Promise<CopyReport> {
  // One read transaction: a consistent snapshot even while a server is writing the file (WAL).
  const snapshot = source.db.transaction(() =>
    COPIED_TABLES.map((table) => {
      const cols = table.columns.join(', ');
      const rows = table.live
        ? source.db.prepare(`SELECT ${cols} FROM ${table.name} WHERE ${table.live}`).raw().all(now)
        : source.db.prepare(`SELECT ${cols} FROM ${table.name}`).raw().all();
      const total = (source.db.prepare(`SELECT count(*) AS n FROM ${table.name}`).get() as { n: number }).n;
      return { table, rows: rows as unknown[][], skipped: total - rows.length };
    }),
  )();

  const copied: Record<string, number> = {};
  await transaction(target.pool, async (client) => {
    const names = COPIED_TABLES.map((t) => quoteIdent(t.name)).join(', ');
    // No instance may write while we check emptiness and fill the tables.
    await client.query(`LOCK TABLE ${names} IN EXCLUSIVE MODE`);
    const counts = await client.query<{ name: string; n: number }>(
      COPIED_TABLES.map(
        (t) => `SELECT '${t.name}' AS name, count(*)::int AS n FROM ${quoteIdent(t.name)}`,
      ).join(' UNION ALL '),
    );
    const occupied = counts.rows.filter((r) => r.n > 0);
    if (occupied.length > 0) {
      throw new CopyTargetNotEmptyError(
        `the target database is not empty (${occupied.map((r) => `${r.n} ${r.name}`).join(', ')}); ` +
          'copy into an empty database or schema, before any Sekisho has started on it',
      );
    }
    for (const { table, rows } of snapshot) {
      for (let i = 0; i < rows.length; i += BATCH) {
        const batch = rows.slice(i, i + BATCH);
        const width = table.columns.length;
        const tuples = batch.map(
          (_, r) => `(${table.columns.map((_c, c) => `$${r * width + c + 1}`).join(', ')})`,
        );
        await client.query(
          `INSERT INTO ${quoteIdent(table.name)} (${table.columns.join(', ')}) VALUES ${tuples.join(', ')}`,
          batch.flat(),
        );
      }
      copied[table.name] = rows.length;
    }
  });
  return { copied, skipped: snapshot.reduce((sum, s) => sum + s.skipped, 0) };
}
