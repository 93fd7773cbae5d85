/**
 * The gate's joined read (`findGrantAndUser`) as both SQL backends run it: one statement that returns
 * one row whether the grant, the user, both or neither exist — a constant one-row relation LEFT JOINed
 * to the live Grant row and to the account — and its mapping. One select list and one mapping, so
 * the backends differ only in how they spell parameters.
 */
import { type StoredOidcRow, toPayload } from './oidc-rows.ts';
import type { GrantAndUser, UserRecord } from './types.ts';

export interface GateRow {
  g_payload: string | null;
  g_consumed_at: number | null;
  u_id: string | null;
  u_username: string | null;
  u_name: string | null;
  u_email: string | null;
  u_role: UserRecord['role'] | null;
  u_created_at: number | null;
  u_disabled_at: number | null;
}

/**
 * `grant`, `user` and `now` are the backend's placeholders. The password hash is not selected: the
 * gate never needs it, and what it reads may be cached.
 */
export function gateSql(p: { grant: string; user: string; now: string }): string {
  return `
    SELECT g.payload AS g_payload, g.consumed_at AS g_consumed_at,
           u.id AS u_id, u.username AS u_username, u.name AS u_name, u.email AS u_email,
           u.role AS u_role, u.created_at AS u_created_at, u.disabled_at AS u_disabled_at
    FROM (SELECT 1 AS one) AS k
    LEFT JOIN oidc_models g ON g.model = 'Grant' AND g.id = ${p.grant}
                           AND (g.expires_at IS NULL OR g.expires_at > ${p.now})
    LEFT JOIN users u ON u.id = ${p.user}`;
}

export function toGrantAndUser(row: GateRow | undefined): GrantAndUser {
  const grant =
    row?.g_payload == null
      ? undefined
      : toPayload({ payload: row.g_payload, consumed_at: row.g_consumed_at } as StoredOidcRow);
  const user =
    row?.u_id == null
      ? undefined
      : {
          id: row.u_id,
          username: row.u_username!,
          name: row.u_name!,
          email: row.u_email!,
          role: row.u_role!,
          createdAt: row.u_created_at!,
          // Absent rather than undefined, as `toUser` reads it.
          ...(row.u_disabled_at === null ? {} : { disabledAt: row.u_disabled_at }),
        };
  return { grant, user };
}
