/** AuditStore on SQLite: an append-only table, listed newest first through `audit-rows.ts`. */
import type { Database, Statement } from 'better-sqlite3';
import {
  AUDIT_COLUMN_LIST,
  AUDIT_COLUMNS,
  type AuditRow,
  auditListSql,
  toAuditRecord,
  toAuditRow,
} from '../audit-rows.ts';
import type { AuditStore } from '../types.ts';

export function createSqliteAuditStore(db: Database): AuditStore {
  const insert = db.prepare(
    `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (${AUDIT_COLUMN_LIST.map((c) => `@${c}`).join(', ')})`,
  );
  const prune = db.prepare('DELETE FROM audit_log WHERE at < ?');
  // Listings differ only in which filters are present: one prepared statement per shape.
  const listings = new Map<string, Statement>();

  return {
    async appendAudit(record) {
      insert.run(toAuditRow(record));
    },
    async listAudit(query = {}) {
      const { sql, values } = auditListSql(query, (i) => `@p${i}`);
      let statement = listings.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        listings.set(sql, statement);
      }
      const params = Object.fromEntries(values.map((v, i) => [`p${i + 1}`, v]));
      return (statement.all(params) as AuditRow[]).map(toAuditRecord);
    },
    async pruneAudit(olderThan) {
      return prune.run(olderThan).changes;
    },
  };
}
