/**
 * OidcStore on SQLite: one table keyed by (model, id). The columns oidc-provider looks rows up by
 * (grantId, uid, userCode) and the ones the account page, CLI and admin tools filter on (accountId,
 * clientId) are lifted out of the JSON payload into indexed columns at write time.
 *
 * `consumed` lives in its own column so consume-once is one conditional UPDATE: SQLite serialises
 * writers, so of any number of concurrent callers (in this process or another one on the same file)
 * exactly one sees `changes === 1`.
 */
import type { Database } from 'better-sqlite3';
import {
  assertListableByOwner,
  expiryFrom,
  oidcColumns,
  type StoredOidcRow as Row,
  toOidcRow,
  toPayload,
} from '../oidc-rows.ts';
import type { OidcModel, OidcPayload, OidcStore } from '../types.ts';

const LIVE = '(expires_at IS NULL OR expires_at > @now)';
const COLUMNS = 'id, payload, created_at, expires_at, consumed_at, last_used_at';

export function createSqliteOidcStore(db: Database, now: () => number): OidcStore {
  const upsert = db.prepare(`
    INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, account_id, client_id,
                             created_at, expires_at, consumed_at)
    VALUES (@model, @id, @payload, @grantId, @uid, @userCode, @accountId, @clientId,
            @now, @expiresAt, @consumedAt)
    ON CONFLICT (model, id) DO UPDATE SET
      payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
      user_code = excluded.user_code, account_id = excluded.account_id, client_id = excluded.client_id,
      expires_at = excluded.expires_at, consumed_at = excluded.consumed_at`);
  const find = db.prepare(`SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND id = @id AND ${LIVE}`);
  const findByUid = db.prepare(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND uid = @uid AND ${LIVE} LIMIT 1`,
  );
  const findByUserCode = db.prepare(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND user_code = @userCode AND ${LIVE} LIMIT 1`,
  );
  const consume = db.prepare(`
    UPDATE oidc_models SET consumed_at = @now
    WHERE model = @model AND id = @id AND consumed_at IS NULL AND ${LIVE}`);
  const destroy = db.prepare('DELETE FROM oidc_models WHERE model = @model AND id = @id');
  const takeExpired = db.prepare(
    `DELETE FROM oidc_models WHERE model = @model AND expires_at IS NOT NULL AND expires_at <= @now RETURNING ${COLUMNS}`,
  );
  // One statement is one transaction: every model's rows of the grant go together.
  const revokeByGrantId = db.prepare('DELETE FROM oidc_models WHERE grant_id = @grantId');
  const touch = db.prepare(`
    UPDATE oidc_models
    SET last_used_at = @now, expires_at = COALESCE(@expiresAt, expires_at)
    WHERE model = @model AND id = @id AND ${LIVE}`);
  const listAll = db.prepare(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND ${LIVE} ORDER BY created_at, id`,
  );
  const listByAccount = db.prepare(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND account_id = @accountId AND ${LIVE}
     ORDER BY created_at, id`,
  );
  const listByClient = db.prepare(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND client_id = @clientId AND ${LIVE}
     ORDER BY created_at, id`,
  );
  const listByBoth = db.prepare(
    `SELECT ${COLUMNS} FROM oidc_models
     WHERE model = @model AND account_id = @accountId AND client_id = @clientId AND ${LIVE}
     ORDER BY created_at, id`,
  );

  return {
    async upsert(model: OidcModel, id: string, payload: OidcPayload, expiresInSeconds: number | undefined) {
      const t = now();
      upsert.run({ model, id, now: t, ...oidcColumns(model, payload, t, expiresInSeconds) });
    },
    async find(model, id) {
      return toPayload(find.get({ model, id, now: now() }) as Row | undefined);
    },
    async findByUid(model, uid) {
      return toPayload(findByUid.get({ model, uid, now: now() }) as Row | undefined);
    },
    async findByUserCode(model, userCode) {
      return toPayload(findByUserCode.get({ model, userCode, now: now() }) as Row | undefined);
    },
    async consume(model, id) {
      return consume.run({ model, id, now: now() }).changes === 1;
    },
    async destroy(model, id) {
      destroy.run({ model, id });
    },
    async revokeByGrantId(grantId) {
      revokeByGrantId.run({ grantId });
    },
    async touch(model, id, expiresInSeconds) {
      const t = now();
      const expiresAt = expiresInSeconds === undefined ? null : expiryFrom(t, expiresInSeconds);
      return touch.run({ model, id, now: t, expiresAt }).changes === 1;
    },
    async takeExpired(model) {
      return (takeExpired.all({ model, now: now() }) as Row[]).map(toOidcRow);
    },
    async list(model, filter = {}) {
      assertListableByOwner(model, filter);
      const { accountId, clientId } = filter;
      const params = { model, accountId, clientId, now: now() };
      const statement =
        accountId !== undefined && clientId !== undefined
          ? listByBoth
          : accountId !== undefined
            ? listByAccount
            : clientId !== undefined
              ? listByClient
              : listAll;
      return (statement.all(params) as Row[]).map(toOidcRow);
    },
  };
}
