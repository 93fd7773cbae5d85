/** UserStore on PostgreSQL. Usernames arrive normalised (identity/ does that); the UNIQUE index enforces it. */
import type { UserStore } from '../types.ts';
import { USER_COLUMNS as COLUMNS, type UserRow as Row, toUser } from '../user-rows.ts';
import { type PgPool, query, toStorageError } from './pool.ts';

const SQL = {
  insert: `
    INSERT INTO users (id, username, name, email, role, password_hash, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
  byId: `SELECT ${COLUMNS} FROM users WHERE id = $1`,
  byUsername: `SELECT ${COLUMNS} FROM users WHERE username = $1`,
  // Binary order, as SQLite sorts: the same listing on every backend whatever the server's locale.
  all: `SELECT ${COLUMNS} FROM users ORDER BY username COLLATE "C"`,
  remove: 'DELETE FROM users WHERE id = $1',
  // One statement covers every patch shape: absent fields keep their value.
  update: `
    UPDATE users SET
      name = COALESCE($2, name), email = COALESCE($3, email), role = COALESCE($4, role),
      password_hash = COALESCE($5, password_hash),
      disabled_at = CASE WHEN $7::boolean THEN $8::bigint ELSE disabled_at END, updated_at = $6
    WHERE id = $1`,
} as const;

export function createPostgresUserStore(pool: PgPool, now: () => number): UserStore {
  const run = (name: keyof typeof SQL, values: unknown[]) =>
    query<Row>(pool, SQL[name], values, `sekisho_users_${name}`);

  return {
    async createUser(user) {
      try {
        await pool.query(SQL.insert, [
          user.id,
          user.username,
          user.name,
          user.email,
          user.role,
          user.passwordHash,
          user.createdAt,
        ]);
      } catch (error) {
        throw toStorageError(error, (constraint) => (constraint.includes('username') ? 'username' : 'id'));
      }
    },
    async findUserById(id) {
      return toUser((await run('byId', [id])).rows[0]);
    },
    async findUserByUsername(username) {
      return toUser((await run('byUsername', [username])).rows[0]);
    },
    async listUsers() {
      return (await run('all', [])).rows.map((r) => toUser(r)!);
    },
    async updateUser(id, patch) {
      const result = await run('update', [
        id,
        patch.name ?? null,
        patch.email ?? null,
        patch.role ?? null,
        patch.passwordHash ?? null,
        now(),
        patch.disabledAt !== undefined,
        patch.disabledAt ?? null,
      ]);
      return result.rowCount === 1;
    },
    async deleteUser(id) {
      return (await run('remove', [id])).rowCount === 1;
    },
  };
}
