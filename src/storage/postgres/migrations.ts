/**
 * Versioned schema migrations for PostgreSQL. Every instance runs `migrate` when it opens storage;
 * the whole run is one transaction holding a transaction-level advisory lock keyed by the schema, so
 * when several instances start together exactly one applies each pending step and the others wait,
 * then find nothing left to do. DDL is transactional in PostgreSQL: a failed step leaves no trace.
 * Never edit a released step: append one. Same tables and columns as SQLite (sqlite/migrations.ts);
 * times are bigint milliseconds since the epoch, payloads are JSON text (exact round-trip, and a
 * NUL escape in attacker-supplied metadata stays storable, which jsonb would refuse).
 */
import type { Logger } from '../../observability/logger.ts';
import { SchemaVersionError } from '../errors.ts';
import type { SchemaStatus } from '../schema-status.ts';
import { type PgClient, type PgPool, query, transaction } from './pool.ts';

export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE oidc_models (
        model        text   NOT NULL,
        id           text   NOT NULL,          -- the adapter's id, already hashed for bearer secrets
        payload      text   NOT NULL,          -- JSON, without "consumed" (see consumed_at)
        grant_id     text,
        uid          text,
        user_code    text,
        account_id   text,
        client_id    text,
        created_at   bigint NOT NULL,
        expires_at   bigint,                   -- NULL = never
        consumed_at  bigint,                   -- NULL = not consumed
        last_used_at bigint,
        PRIMARY KEY (model, id)
      );
      CREATE INDEX oidc_models_grant   ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oidc_models_uid     ON oidc_models (model, uid) WHERE uid IS NOT NULL;
      CREATE INDEX oidc_models_ucode   ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oidc_models_account ON oidc_models (model, account_id) WHERE account_id IS NOT NULL;
      CREATE INDEX oidc_models_client  ON oidc_models (model, client_id) WHERE client_id IS NOT NULL;
      CREATE INDEX oidc_models_expires ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;

      CREATE TABLE users (
        id            text   PRIMARY KEY,
        username      text   NOT NULL UNIQUE,
        name          text   NOT NULL,
        email         text   NOT NULL,
        role          text   NOT NULL CHECK (role IN ('admin', 'user')),
        password_hash text   NOT NULL,         -- scrypt$N$r$p$salt$hash, never the password
        created_at    bigint NOT NULL,
        updated_at    bigint NOT NULL
      );

      CREATE TABLE signing_keys (
        kid         text   PRIMARY KEY,
        private_jwk text   NOT NULL,           -- JSON JWK including "d"
        created_at  bigint NOT NULL,
        rotated_at  bigint                     -- NULL = the active signing key
      );

      CREATE TABLE rate_limits (
        key          text    PRIMARY KEY,
        window_start bigint  NOT NULL,
        count        integer NOT NULL,
        expires_at   bigint  NOT NULL          -- end of the window; swept after
      );
      CREATE INDEX rate_limits_expires ON rate_limits (expires_at);
    `,
  },
  {
    version: 2,
    name: 'external identities',
    sql: `
      -- Accounts at upstream OpenID providers, keyed by (issuer, subject); see storage/types.ts.
      CREATE TABLE external_identities (
        issuer        text   NOT NULL,
        subject       text   NOT NULL,
        user_id       text   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        claims        text   NOT NULL,         -- JSON: the claims role mapping reads, never tokens
        created_at    bigint NOT NULL,
        last_login_at bigint NOT NULL,
        PRIMARY KEY (issuer, subject)
      );
      CREATE INDEX external_identities_user ON external_identities (user_id);
    `,
  },
  {
    version: 3,
    name: 'audit log and disabled users',
    sql: `
      -- Security events (audit/events.ts), kept for SEKISHO_AUDIT_RETENTION_DAYS. No foreign keys:
      -- a record outlives the user, client or grant it names.
      CREATE TABLE audit_log (
        id          text   PRIMARY KEY,        -- sortable within one millisecond
        at          bigint NOT NULL,
        type        text   NOT NULL,
        outcome     text   NOT NULL CHECK (outcome IN ('success', 'failure')),
        actor_kind  text   NOT NULL,
        actor_id    text,
        actor_name  text,
        user_id     text,
        client_id   text,
        grant_id    text,
        ip          text,
        user_agent  text,
        details     text   NOT NULL            -- JSON, never secrets
      );
      CREATE INDEX audit_log_at     ON audit_log (at);
      CREATE INDEX audit_log_type   ON audit_log (type, at);
      CREATE INDEX audit_log_user   ON audit_log (user_id, at) WHERE user_id IS NOT NULL;
      CREATE INDEX audit_log_actor  ON audit_log (actor_id, at) WHERE actor_id IS NOT NULL;
      CREATE INDEX audit_log_client ON audit_log (client_id, at) WHERE client_id IS NOT NULL;

      ALTER TABLE users ADD COLUMN disabled_at bigint;   -- NULL = enabled
    `,
  },
];

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text    NOT NULL,
  applied_at bigint  NOT NULL
)`;

/** The advisory-lock key: one per schema, so deployments sharing a database do not wait on each other. */
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('sekisho:migrate:' || COALESCE($1::text, current_schema(), '')))`;

/**
 * Applies every pending migration (creating `schema` first when given); returns the versions applied
 * by this call — empty when another instance got there first or nothing was pending.
 */
export async function migratePostgres(
  pool: PgPool,
  opts: { schema?: string | undefined; logger?: Logger; migrations?: readonly PgMigration[] } = {},
): Promise<number[]> {
  const migrations = [...(opts.migrations ?? PG_MIGRATIONS)].sort((a, b) => a.version - b.version);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const applied = await transaction(pool, async (client) => {
    await client.query(LOCK, [opts.schema ?? null]);
    if (opts.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.schema)}`);
    await client.query(LEDGER);
    const done = await appliedVersions(client);
    const newest = Math.max(0, ...done);
    if (newest > known) {
      throw new SchemaVersionError(
        `database schema version ${newest} is newer than this Sekisho understands (${known}); upgrade Sekisho`,
      );
    }
    const now: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        Date.now(),
      ]);
      now.push(m.version);
    }
    return now;
  });
  for (const version of applied) opts.logger?.info({ version }, 'storage migration applied');
  return applied;
}

/** What is applied and what is pending, without changing anything. */
export async function postgresSchemaStatus(
  pool: PgPool,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<SchemaStatus> {
  const exists = await query<{ t: string | null }>(
    pool,
    "SELECT to_regclass('schema_migrations')::text AS t",
    [],
  );
  const done =
    exists.rows[0]?.t == null
      ? new Set<number>()
      : new Set(
          (await query<{ version: number }>(pool, 'SELECT version FROM schema_migrations', [])).rows.map(
            (r) => r.version,
          ),
        );
  return {
    current: Math.max(0, ...done),
    latest: Math.max(0, ...migrations.map((m) => m.version)),
    pending: migrations.filter((m) => !done.has(m.version)).map(({ version, name }) => ({ version, name })),
  };
}

async function appliedVersions(client: PgClient): Promise<Set<number>> {
  const rows = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
  return new Set(rows.rows.map((r) => r.version));
}

/** Schema names are validated by the config schema; quoting keeps the SQL safe regardless. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
