/** ExternalIdentityStore on SQLite: one row per (issuer, subject), deleted with its user (FK cascade). */
import type { Database } from 'better-sqlite3';
import { SqliteError } from 'better-sqlite3';
import { DuplicateError } from '../errors.ts';
import type { ExternalIdentityRecord, ExternalIdentityStore } from '../types.ts';

interface Row {
  issuer: string;
  subject: string;
  user_id: string;
  claims: string;
  created_at: number;
  last_login_at: number;
}

const COLUMNS = 'issuer, subject, user_id, claims, created_at, last_login_at';

export function createSqliteExternalIdentityStore(db: Database, now: () => number): ExternalIdentityStore {
  const find = db.prepare(`SELECT ${COLUMNS} FROM external_identities WHERE issuer = ? AND subject = ?`);
  const byUser = db.prepare(
    `SELECT ${COLUMNS} FROM external_identities WHERE user_id = ? ORDER BY created_at, issuer, subject`,
  );
  // Insert, or on the same (issuer, subject) record the sign-in — but only for the same user: the
  // WHERE makes a link to another user change nothing, which `link` then reports as a duplicate.
  const upsert = db.prepare(`
    INSERT INTO external_identities (issuer, subject, user_id, claims, created_at, last_login_at)
    VALUES (@issuer, @subject, @userId, @claims, @now, @now)
    ON CONFLICT (issuer, subject) DO UPDATE SET claims = excluded.claims, last_login_at = excluded.last_login_at
    WHERE external_identities.user_id = excluded.user_id`);
  const remove = db.prepare('DELETE FROM external_identities WHERE issuer = ? AND subject = ?');

  return {
    async findExternalIdentity(issuer, subject) {
      return toRecord(find.get(issuer, subject) as Row | undefined);
    },
    async linkExternalIdentity(link) {
      let changes: number;
      try {
        changes = upsert.run({
          issuer: link.issuer,
          subject: link.subject,
          userId: link.userId,
          claims: JSON.stringify(link.claims ?? {}),
          now: now(),
        }).changes;
      } catch (error) {
        if (error instanceof SqliteError && error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
          throw new DuplicateError('user', `no such user: ${link.userId}`);
        }
        throw error;
      }
      if (changes === 0) {
        throw new DuplicateError('external_identity', 'this external identity is linked to another user');
      }
    },
    async listExternalIdentities(userId) {
      return (byUser.all(userId) as Row[]).map((r) => toRecord(r)!);
    },
    async unlinkExternalIdentity(issuer, subject) {
      return remove.run(issuer, subject).changes === 1;
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
