/**
 * How every backend lays an oidc-provider payload out in a row, so SQLite and PostgreSQL store and
 * return exactly the same thing: lookup columns lifted from the payload, `consumed` kept in its own
 * column (ms) and merged back as epoch seconds on read, expiry as an absolute time in ms.
 */
import type { OidcModel, OidcPayload, OidcRow } from './types.ts';

/**
 * The models listed by owner (`list(model, { accountId, clientId })`): the account page, the CLI and
 * the admin console list grants, sessions, clients and registration tokens — never tokens or codes.
 * Only these rows fill the account and client columns, so a refresh token's insert does not update
 * two owner indexes that nothing reads (two fewer index pages on every refresh; docs/benchmarks.md).
 */
export const LISTED_BY_OWNER: ReadonlySet<OidcModel> = new Set<OidcModel>([
  'Grant',
  'Session',
  'Client',
  'RegistrationAccessToken',
]);

/** A programming error: listing by owner a model whose rows do not record their owner. */
export function assertListableByOwner(
  model: OidcModel,
  filter: { accountId?: string; clientId?: string },
): void {
  if ((filter.accountId !== undefined || filter.clientId !== undefined) && !LISTED_BY_OWNER.has(model)) {
    throw new TypeError(`${model} rows are not listed by account or client`);
  }
}

/** The columns an upsert writes besides model, id and times. */
export interface OidcColumns {
  readonly payload: string;
  readonly grantId: string | null;
  readonly uid: string | null;
  readonly userCode: string | null;
  readonly accountId: string | null;
  readonly clientId: string | null;
  readonly expiresAt: number | null;
  readonly consumedAt: number | null;
}

/** A row as read back (times in ms; `payload` is the stored JSON text). */
export interface StoredOidcRow {
  id: string;
  payload: string;
  created_at: number;
  expires_at: number | null;
  consumed_at: number | null;
  last_used_at: number | null;
}

export function oidcColumns(
  model: OidcModel,
  payload: OidcPayload,
  nowMs: number,
  expiresInSeconds: number | undefined,
): OidcColumns {
  const { consumed, ...rest } = payload;
  const owned = LISTED_BY_OWNER.has(model);
  return {
    payload: JSON.stringify(rest),
    grantId: str(payload.grantId),
    uid: str(payload.uid),
    userCode: str(payload.userCode),
    accountId: owned ? str(payload.accountId) : null,
    clientId: owned ? (str(payload.clientId) ?? (model === 'Client' ? str(payload.client_id) : null)) : null,
    expiresAt: expiryFrom(nowMs, expiresInSeconds),
    consumedAt: consumedAtFrom(consumed, nowMs),
  };
}

export function expiryFrom(nowMs: number, expiresInSeconds: number | undefined): number | null {
  if (expiresInSeconds === undefined || !Number.isFinite(expiresInSeconds)) return null;
  return nowMs + Math.round(expiresInSeconds * 1000);
}

export function toPayload(row: StoredOidcRow | undefined): OidcPayload | undefined {
  if (!row) return undefined;
  const payload = JSON.parse(row.payload) as OidcPayload;
  if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
  return payload;
}

export function toOidcRow(row: StoredOidcRow): OidcRow {
  return {
    id: row.id,
    payload: toPayload(row)!,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    lastUsedAt: row.last_used_at ?? undefined,
  };
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** oidc-provider writes `consumed` as epoch seconds; keep it if a caller re-saves a consumed row. */
function consumedAtFrom(consumed: unknown, nowMs: number): number | null {
  if (typeof consumed === 'number' && consumed > 0) return consumed * 1000;
  if (consumed === true) return nowMs;
  return null;
}
