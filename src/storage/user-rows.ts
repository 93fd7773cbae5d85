/**
 * The `users` row as both SQL backends read it, and its mapping to `UserRecord`: one column list and
 * one mapping, so the backends cannot drift apart on what a user is (they differ only in SQL dialect).
 */
import type { UserRecord } from './types.ts';

export interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string;
  role: UserRecord['role'];
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
}

export const USER_COLUMNS = 'id, username, name, email, role, password_hash, created_at, disabled_at';

export function toUser(row: UserRow | undefined): UserRecord | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    email: row.email,
    role: row.role,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    // Absent rather than undefined: an enabled user reads back exactly as it was created.
    ...(row.disabled_at === null ? {} : { disabledAt: row.disabled_at }),
  };
}
