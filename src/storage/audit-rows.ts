/**
 * The `audit_log` row as both SQL backends read and write it, and the one WHERE clause of a listing:
 * the backends differ only in how a placeholder is spelled (`?` or `$n`), so they cannot disagree on
 * what a filter means.
 */
import type { AuditActor, AuditQuery, AuditRecord } from './types.ts';

export interface AuditRow {
  id: string;
  at: number;
  type: string;
  outcome: AuditRecord['outcome'];
  actor_kind: AuditActor['kind'];
  actor_id: string | null;
  actor_name: string | null;
  user_id: string | null;
  client_id: string | null;
  grant_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
}

export const AUDIT_COLUMN_LIST = [
  'id',
  'at',
  'type',
  'outcome',
  'actor_kind',
  'actor_id',
  'actor_name',
  'user_id',
  'client_id',
  'grant_id',
  'ip',
  'user_agent',
  'details',
] as const;

export const AUDIT_COLUMNS = AUDIT_COLUMN_LIST.join(', ');

/** The most a single listing returns (the CLI pages through more with `until`). */
export const AUDIT_LIST_CEILING = 1000;

export function toAuditRow(r: AuditRecord): AuditRow {
  return {
    id: r.id,
    at: r.at,
    type: r.type,
    outcome: r.outcome,
    actor_kind: r.actor.kind,
    actor_id: r.actor.id ?? null,
    actor_name: r.actor.name ?? null,
    user_id: r.userId ?? null,
    client_id: r.clientId ?? null,
    grant_id: r.grantId ?? null,
    ip: r.ip ?? null,
    user_agent: r.userAgent ?? null,
    details: JSON.stringify(r.details),
  };
}

/** Values of `toAuditRow` in `AUDIT_COLUMN_LIST` order, for positional inserts. */
export function auditRowValues(r: AuditRecord): unknown[] {
  const row = toAuditRow(r);
  return AUDIT_COLUMN_LIST.map((c) => row[c]);
}

export function toAuditRecord(row: AuditRow): AuditRecord {
  const actor: AuditActor = {
    kind: row.actor_kind,
    ...(row.actor_id === null ? {} : { id: row.actor_id }),
    ...(row.actor_name === null ? {} : { name: row.actor_name }),
  };
  return {
    id: row.id,
    at: Number(row.at),
    type: row.type,
    outcome: row.outcome,
    actor,
    ...(row.user_id === null ? {} : { userId: row.user_id }),
    ...(row.client_id === null ? {} : { clientId: row.client_id }),
    ...(row.grant_id === null ? {} : { grantId: row.grant_id }),
    ...(row.ip === null ? {} : { ip: row.ip }),
    ...(row.user_agent === null ? {} : { userAgent: row.user_agent }),
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/**
 * `SELECT … FROM audit_log WHERE … ORDER BY at DESC, id DESC LIMIT n` for a query, with
 * `placeholder(i)` spelling the i-th (1-based) parameter in the backend's dialect.
 */
export function auditListSql(
  query: AuditQuery,
  placeholder: (index: number) => string,
): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return placeholder(values.length);
  };
  const where: string[] = [];
  if (query.userId !== undefined) {
    const p = param(query.userId);
    where.push(`(user_id = ${p} OR actor_id = ${p})`);
  }
  if (query.clientId !== undefined) where.push(`client_id = ${param(query.clientId)}`);
  if (query.types && query.types.length > 0) {
    where.push(`type IN (${query.types.map((t) => param(t)).join(', ')})`);
  }
  if (query.since !== undefined) where.push(`at >= ${param(query.since)}`);
  if (query.until !== undefined) where.push(`at < ${param(query.until)}`);
  const limit = Math.max(1, Math.min(AUDIT_LIST_CEILING, Math.trunc(query.limit ?? AUDIT_LIST_CEILING)));
  const sql = `SELECT ${AUDIT_COLUMNS} FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY at DESC, id DESC LIMIT ${param(limit)}`;
  return { sql, values };
}
