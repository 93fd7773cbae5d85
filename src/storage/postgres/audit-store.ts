/** AuditStore on PostgreSQL: an append-only table, listed newest first through `audit-rows.ts`. */
import {
  AUDIT_COLUMN_LIST,
  AUDIT_COLUMNS,
  type AuditRow,
  auditListSql,
  auditRowValues,
  toAuditRecord,
} from '../audit-rows.ts';
import type { AuditStore } from '../types.ts';
import { type PgPool, query } from './pool.ts';

const INSERT = `INSERT INTO audit_log (${AUDIT_COLUMNS})
  VALUES (${AUDIT_COLUMN_LIST.map((_, i) => `$${i + 1}`).join(', ')})`;

export function createPostgresAuditStore(pool: PgPool): AuditStore {
  return {
    async appendAudit(record) {
      await query(pool, INSERT, auditRowValues(record), 'sekisho_audit_insert');
    },
    async listAudit(q = {}) {
      const { sql, values } = auditListSql(q, (i) => `$${i}`);
      return (await query<AuditRow>(pool, sql, values)).rows.map(toAuditRecord);
    },
    async pruneAudit(olderThan) {
      return (await query(pool, 'DELETE FROM audit_log WHERE at < $1', [olderThan])).rowCount ?? 0;
    },
  };
}
