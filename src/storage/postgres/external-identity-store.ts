/** ExternalIdentityStore on PostgreSQL: one row per (issuer, subject), deleted with its user (FK cascade). */
import { DuplicateError } from '../errors.ts';
import type { ExternalIdentityRecord, ExternalIdentityStore } from '../types.ts';
import { type PgPool, query, toStorageError } from './pool.ts';

interface Row {
  issuer: string;
  subject: string;
  user_id: string;
  claims: string;
  created_at: number;
  last_login_at: number;
}

const COLUMNS = 'issuer, subject, user_id, claims, created_at, last_login_at';

// Insert, or on the same (issuer, subject) record the sign-in — but only for the same user: the
// WHERE makes a link to another user change nothing, which `link` then reports as a duplicate.
const UPSERT = `
  INSERT INTO external_identities (issuer, subject, user_id, claims, created_at, last_login_at)
  VALUES ($1, $2, $3, $4, $5, $5)
  ON CONFLICT (issuer, subject) DO UPDATE SET claims = excluded.claims, last_login_at = excluded.last_login_at
  WHERE external_identities.user_id = excluded.user_id`;

export function createPostgresExternalIdentityStore(pool: PgPool, now: () => number): ExternalIdentityStore {
  return {
    async findExternalIdentity(issuer, subject) {
      const result = await query<Row>(
        pool,
        `SELECT ${COLUMNS} FROM external_identities WHERE issuer = $1 AND subject = $2`,
        [issuer, subject],
      );
      return toRecord(result.rows[0]);
    },
    async linkExternalIdentity(link) {
      let changed: number;
      try {
        const values = [link.issuer, link.subject, link.userId, JSON.stringify(link.claims ?? {}), now()];
        changed = (await pool.query(UPSERT, values)).rowCount ?? 0;
      } catch (error) {
        if ((error as { code?: string }).code === '23503') {
          throw new DuplicateError('user', `no such user: ${link.userId}`);
        }
        throw toStorageError(error, () => 'external_identity');
      }
      if (changed === 0) {
        throw new DuplicateError('external_identity', 'this external identity is linked to another user');
      }
    },
    async listExternalIdentities(userId) {
      const result = await query<Row>(
        pool,
        `SELECT ${COLUMNS} FROM external_identities WHERE user_id = $1
         ORDER BY created_at, issuer COLLATE "C", subject COLLATE "C"`,
        [userId],
      );
      return result.rows.map((r) => toRecord(r)!);
    },
    async unlinkExternalIdentity(issuer, subject) {
      const result = await query(pool, 'DELETE FROM external_identities WHERE issuer = $1 AND subject = $2', [
        issuer,
        subject,
      ]);
      return result.rowCount === 1;
    },
  };
}

function toRecord(row: Row | undefined): ExternalIdentityRecord | undefined {
  if (!row) return undefined;
  return {
    issuer: row.issuer,
    subject: row.subject,
    userId: row.user_id,
    claims: JSON.parse(row.claims) as Record<string, unknown>,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}
