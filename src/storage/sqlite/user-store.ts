/** UserStore on SQLite. Usernames arrive normalised (identity/ does that); the UNIQUE index enforces it. */
import type { Database } from 'better-sqlite3';
import { SqliteError } from 'better-sqlite3';
import { DuplicateError } from '../errors.ts';
import type { UserStore } from '../types.ts';
import { USER_COLUMNS as COLUMNS, type UserRow as Row, toUser } from '../user-rows.ts';

const PATCHABLE = { name: 'name', email: 'email', role: 'role', passwordHash: 'password_hash' } as const;

export function createSqliteUserStore(db: Database, now: () => number): UserStore {
  const insert = db.prepare(`
    INSERT INTO users (id, username, name, email, role, password_hash, created_at, updated_at)
    VALUES (@id, @username, @name, @email, @role, @passwordHash, @createdAt, @createdAt)`);
  const byId = db.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ?`);
  const byUsername = db.prepare(`SELECT ${COLUMNS} FROM users WHERE username = ?`);
  const all = db.prepare(`SELECT ${COLUMNS} FROM users ORDER BY username`);
  const remove = db.prepare('DELETE FROM users WHERE id = ?');
  // One statement covers every patch shape: absent fields keep their value.
  const update = db.prepare(`
    UPDATE users SET
      name = COALESCE(@name, name), email = COALESCE(@email, email), role = COALESCE(@role, role),
      password_hash = COALESCE(@password_hash, password_hash),
      disabled_at = CASE WHEN @disabled_set = 1 THEN @disabled_at ELSE disabled_at END, updated_at = @now
    WHERE id = @id`);

  return {
    async createUser(user) {
      try {
        insert.run({ ...user });
      } catch (error) {
        if (error instanceof SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')) {
          throw new DuplicateError(error.message.includes('username') ? 'username' : 'id');
        }
        throw error;
      }
    },
    async findUserById(id) {
      return toUser(byId.get(id) as Row | undefined);
    },
    async findUserByUsername(username) {
      return toUser(byUsername.get(username) as Row | undefined);
    },
    async listUsers() {
      return (all.all() as Row[]).map((r) => toUser(r)!);
    },
    async updateUser(id, patch) {
      const params: Record<string, unknown> = { id, now: now() };
      for (const [field, column] of Object.entries(PATCHABLE)) {
        params[column] = patch[field as keyof typeof PATCHABLE] ?? null;
      }
      params.disabled_set = patch.disabledAt === undefined ? 0 : 1;
      params.disabled_at = patch.disabledAt ?? null;
      return update.run(params).changes === 1;
    },
    async deleteUser(id) {
      return remove.run(id).changes === 1;
    },
  };
}
