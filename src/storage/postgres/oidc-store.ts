/**
 * OidcStore on PostgreSQL: the same single table and lifted lookup columns as SQLite
 * (../oidc-rows.ts lays rows out for both). Each operation is one statement, so each is atomic:
 * consume-once is `UPDATE … WHERE consumed_at IS NULL … RETURNING`: concurrent callers queue on the
 * row lock and, under READ COMMITTED, re-check the condition after the winner commits, so exactly
 * one gets a row back — on any number of instances.
 */
import {
  assertListableByOwner,
  expiryFrom,
  oidcColumns,
  type StoredOidcRow,
  toOidcRow,
  toPayload,
} from '../oidc-rows.ts';
import type { OidcStore } from '../types.ts';
import { type PgPool, query } from './pool.ts';

const LIVE = '(expires_at IS NULL OR expires_at > $NOW)';
const COLUMNS = 'id, payload, created_at, expires_at, consumed_at, last_used_at';
const ORDER = 'ORDER BY created_at, id COLLATE "C"';

/** `$NOW` stands for the parameter number given (the statements below differ in arity). */
const live = (n: number) => LIVE.replace('$NOW', `$${n}`);

const SQL = {
  upsert: `
    INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, account_id, client_id,
                             created_at, expires_at, consumed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (model, id) DO UPDATE SET
      payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
      user_code = excluded.user_code, account_id = excluded.account_id, client_id = excluded.client_id,
      expires_at = excluded.expires_at, consumed_at = excluded.consumed_at`,
  find: `SELECT ${COLUMNS} FROM oidc_models WHERE model = $1 AND id = $2 AND ${live(3)}`,
  findByUid: `SELECT ${COLUMNS} FROM oidc_models WHERE model = $1 AND uid = $2 AND ${live(3)} LIMIT 1`,
  findByUserCode: `SELECT ${COLUMNS} FROM oidc_models WHERE model = $1 AND user_code = $2 AND ${live(3)} LIMIT 1`,
  consume: `
    UPDATE oidc_models SET consumed_at = $3
    WHERE model = $1 AND id = $2 AND consumed_at IS NULL AND ${live(3)}
    RETURNING 1`,
  destroy: 'DELETE FROM oidc_models WHERE model = $1 AND id = $2',
  revokeByGrantId: 'DELETE FROM oidc_models WHERE grant_id = $1',
  takeExpired: `DELETE FROM oidc_models WHERE model = $1 AND expires_at IS NOT NULL AND expires_at <= $2
    RETURNING ${COLUMNS}`,
  touch: `
    UPDATE oidc_models SET last_used_at = $3, expires_at = COALESCE($4, expires_at)
    WHERE model = $1 AND id = $2 AND ${live(3)}`,
  // One list statement for every filter shape: a NULL filter matches everything.
  list: `
    SELECT ${COLUMNS} FROM oidc_models
    WHERE model = $1 AND ($2::text IS NULL OR account_id = $2) AND ($3::text IS NULL OR client_id = $3)
      AND ${live(4)}
    ${ORDER}`,
} as const;

export function createPostgresOidcStore(pool: PgPool, now: () => number): OidcStore {
  const one = async (name: keyof typeof SQL, values: unknown[]) =>
    toPayload((await query<StoredOidcRow>(pool, SQL[name], values, `sekisho_oidc_${name}`)).rows[0]);
  const count = async (name: keyof typeof SQL, values: unknown[]) =>
    (await query(pool, SQL[name], values, `sekisho_oidc_${name}`)).rowCount ?? 0;

  return {
    async upsert(model, id, payload, expiresInSeconds) {
      const t = now();
      const c = oidcColumns(model, payload, t, expiresInSeconds);
      await count('upsert', [
        model,
        id,
        c.payload,
        c.grantId,
        c.uid,
        c.userCode,
        c.accountId,
        c.clientId,
        t,
        c.expiresAt,
        c.consumedAt,
      ]);
    },
    find: (model, id) => one('find', [model, id, now()]),
    findByUid: (model, uid) => one('findByUid', [model, uid, now()]),
    findByUserCode: (model, userCode) => one('findByUserCode', [model, userCode, now()]),
    async consume(model, id) {
      return (await count('consume', [model, id, now()])) === 1;
    },
    async destroy(model, id) {
      await count('destroy', [model, id]);
    },
    async revokeByGrantId(grantId) {
      await count('revokeByGrantId', [grantId]);
    },
    async touch(model, id, expiresInSeconds) {
      const t = now();
      const expiresAt = expiresInSeconds === undefined ? null : expiryFrom(t, expiresInSeconds);
      return (await count('touch', [model, id, t, expiresAt])) === 1;
    },
    async takeExpired(model) {
      const result = await query<StoredOidcRow>(
        pool,
        SQL.takeExpired,
        [model, now()],
        'sekisho_oidc_take_expired',
      );
      return result.rows.map(toOidcRow);
    },
    async list(model, filter = {}) {
      assertListableByOwner(model, filter);
      const values = [model, filter.accountId ?? null, filter.clientId ?? null, now()];
      const result = await query<StoredOidcRow>(pool, SQL.list, values, 'sekisho_oidc_list');
      return result.rows.map(toOidcRow);
    },
  };
}
