/**
 * Versioned schema migrations, applied on every open. Each step runs once, in order, inside an
 * IMMEDIATE transaction that re-reads the applied versions first, so a server and a CLI opening the
 * same file at the same moment cannot both apply a step. Never edit a released step: append a new one.
 *
 * All times are integer milliseconds since the epoch.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from '../../observability/logger.ts';
import { SchemaVersionError } from '../errors.ts';
import type { SchemaStatus } from '../schema-status.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      -- oidc-provider models. id is the adapter's id, already hashed for token-bearing models.
      CREATE TABLE oidc_models (
        model        TEXT    NOT NULL,
        id           TEXT    NOT NULL,
        payload      TEXT    NOT NULL,            -- JSON, without "consumed" (see consumed_at)
        grant_id     TEXT,
        uid          TEXT,
        user_code    TEXT,
        account_id   TEXT,
        client_id    TEXT,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER,                     -- NULL = never
        consumed_at  INTEGER,                     -- NULL = not consumed
        last_used_at INTEGER,
        PRIMARY KEY (model, id)
      ) WITHOUT ROWID;
      CREATE INDEX oidc_models_grant   ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oidc_models_uid     ON oidc_models (model, uid) WHERE uid IS NOT NULL;
      CREATE INDEX oidc_models_ucode   ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oidc_models_account ON oidc_models (model, account_id) WHERE account_id IS NOT NULL;
      CREATE INDEX oidc_models_client  ON oidc_models (model, client_id) WHERE client_id IS NOT NULL;
      CREATE INDEX oidc_models_expires ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;

      CREATE TABLE users (
        id            TEXT    PRIMARY KEY,
        username      TEXT    NOT NULL UNIQUE,
        name          TEXT    NOT NULL,
        email         TEXT    NOT NULL,
        role          TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
        password_hash TEXT    NOT NULL,          -- scrypt$N$r$p$salt$hash, never the password
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE signing_keys (
        kid         TEXT    PRIMARY KEY,
        private_jwk TEXT    NOT NULL,            -- JSON JWK including "d"
        created_at  INTEGER NOT NULL,
        rotated_at  INTEGER                      -- NULL = the active signing key
      );

      CREATE TABLE rate_limits (
        key          TEXT    PRIMARY KEY,
        window_start INTEGER NOT NULL,
        count        INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL            -- end of the window; swept after
      ) WITHOUT ROWID;
      CREATE INDEX rate_limits_expires ON rate_limits (expires_at);
    `,
  },
  {
    version: 2,
    name: 'external identities',
    sql: `
      -- Accounts at upstream OpenID providers, keyed by (issuer, subject); see storage/types.ts.
      CREATE TABLE external_identities (
        issuer        TEXT    NOT NULL,
        subject       TEXT    NOT NULL,
        user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        claims        TEXT    NOT NULL,          -- JSON: the claims role mapping reads, never tokens
        created_at    INTEGER NOT NULL,
        last_login_at INTEGER NOT NULL,
        PRIMARY KEY (issuer, subject)
      ) WITHOUT ROWID;
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
        id          TEXT    PRIMARY KEY,         -- sortable within one millisecond
        at          INTEGER NOT NULL,
        type        TEXT    NOT NULL,
        outcome     TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
        actor_kind  TEXT    NOT NULL,
        actor_id    TEXT,
        actor_name  TEXT,
        user_id     TEXT,
        client_id   TEXT,
        grant_id    TEXT,
        ip          TEXT,
        user_agent  TEXT,
        details     TEXT    NOT NULL             -- JSON, never secrets
      ) WITHOUT ROWID;
      CREATE INDEX audit_log_at     ON audit_log (at);
      CREATE INDEX audit_log_type   ON audit_log (type, at);
      CREATE INDEX audit_log_user   ON audit_log (user_id, at) WHERE user_id IS NOT NULL;
      CREATE INDEX audit_log_actor  ON audit_log (actor_id, at) WHERE actor_id IS NOT NULL;
      CREATE INDEX audit_log_client ON audit_log (client_id, at) WHERE client_id IS NOT NULL;

      ALTER TABLE users ADD COLUMN disabled_at INTEGER;   -- NULL = enabled
    `,
  },
  {
    version: 4,
    name: 'oidc_models as a rowid table',
    sql: `
      -- Every refresh inserts a token row of ~0.5 KB under a random (hashed) id. In a WITHOUT ROWID
      -- table that whole row sits in the primary-key b-tree, about seven to a page, so each insert
      -- lands on a random full page and splits it. In a rowid table rows are appended in rowid order
      -- and only the (model, id) key goes into the random-order index, sixty-odd to a page: fewer
      -- pages written to the WAL per commit. A/B on the refresh grant: -8 % CPU per refresh
      -- (docs/benchmarks.md). Same columns, same indexes, same rows.
      CREATE TABLE oidc_models_v4 (
        model        TEXT    NOT NULL,
        id           TEXT    NOT NULL,
        payload      TEXT    NOT NULL,
        grant_id     TEXT,
        uid          TEXT,
        user_code    TEXT,
        account_id   TEXT,
        client_id    TEXT,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER,
        consumed_at  INTEGER,
        last_used_at INTEGER,
        PRIMARY KEY (model, id)
      );
      INSERT INTO oidc_models_v4 (model, id, payload, grant_id, uid, user_code, account_id, client_id,
                                  created_at, expires_at, consumed_at, last_used_at)
        SELECT model, id, payload, grant_id, uid, user_code, account_id, client_id,
               created_at, expires_at, consumed_at, last_used_at
        FROM oidc_models ORDER BY created_at;
      DROP TABLE oidc_models;
      ALTER TABLE oidc_models_v4 RENAME TO oidc_models;
      CREATE INDEX oidc_models_grant   ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oidc_models_uid     ON oidc_models (model, uid) WHERE uid IS NOT NULL;
      CREATE INDEX oidc_models_ucode   ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oidc_models_account ON oidc_models (model, account_id) WHERE account_id IS NOT NULL;
      CREATE INDEX oidc_models_client  ON oidc_models (model, client_id) WHERE client_id IS NOT NULL;
      CREATE INDEX oidc_models_expires ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
];

/** Applies every pending migration; returns the versions applied now (empty when up to date). */
export function migrate(
  db: Database,
  logger?: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const applied: number[] = [];
  const step = db.transaction(() => {
    const done = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    const newest = Math.max(0, ...done);
    if (newest > known) {
      throw new SchemaVersionError(
        `database schema version ${newest} is newer than this Sekisho understands (${known}); upgrade Sekisho`,
      );
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
      applied.push(m.version);
    }
  });
  step.immediate();
  for (const version of applied) logger?.info({ version }, 'storage migration applied');
  return applied;
}

/** The highest applied schema version (0 for an empty database). */
export function schemaVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** What is applied and what is pending, without changing anything. */
export function sqliteSchemaStatus(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): SchemaStatus {
  const ledger = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  const done = new Set(
    ledger
      ? (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
          (r) => r.version,
        )
      : [],
  );
  return {
    current: Math.max(0, ...done),
    latest: Math.max(0, ...migrations.map((m) => m.version)),
    pending: migrations.filter((m) => !done.has(m.version)).map(({ version, name }) => ({ version, name })),
  };
}
