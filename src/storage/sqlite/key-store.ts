/** KeyStore on SQLite: signing keys as JWKs; the active key is the one with `rotated_at IS NULL`. */
import type { Database } from 'better-sqlite3';
import { SqliteError } from 'better-sqlite3';
import { DuplicateError } from '../errors.ts';
import type { KeyStore, SigningKeyRecord } from '../types.ts';

interface Row {
  kid: string;
  private_jwk: string;
  created_at: number;
  rotated_at: number | null;
}

export function createSqliteKeyStore(db: Database): KeyStore {
  // Active key first, then the most recently created: oidc-provider signs with the first match.
  const list = db.prepare(`
    SELECT kid, private_jwk, created_at, rotated_at FROM signing_keys
    ORDER BY rotated_at IS NOT NULL, created_at DESC, kid`);
  const insert = db.prepare(`
    INSERT INTO signing_keys (kid, private_jwk, created_at, rotated_at)
    VALUES (@kid, @privateJwk, @createdAt, @rotatedAt)`);
  const retireActive = db.prepare('UPDATE signing_keys SET rotated_at = ? WHERE rotated_at IS NULL');
  const prune = db.prepare('DELETE FROM signing_keys WHERE rotated_at IS NOT NULL AND rotated_at < ?');

  const add = (key: SigningKeyRecord) => {
    try {
      insert.run({
        kid: key.kid,
        privateJwk: JSON.stringify(key.privateJwk),
        createdAt: key.createdAt,
        rotatedAt: key.rotatedAt ?? null,
      });
    } catch (error) {
      if (error instanceof SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')) {
        throw new DuplicateError('kid');
      }
      throw error;
    }
  };
  const hasActive = db.prepare('SELECT 1 FROM signing_keys WHERE rotated_at IS NULL LIMIT 1');
  const ensure = db.transaction((candidate: SigningKeyRecord) => {
    if (hasActive.get() !== undefined) return false;
    add({ ...candidate, rotatedAt: undefined });
    return true;
  });
  const rotate = db.transaction((next: SigningKeyRecord, now: number) => {
    retireActive.run(now);
    add({ ...next, rotatedAt: undefined });
  });

  return {
    async listKeys() {
      return (list.all() as Row[]).map((r) => ({
        kid: r.kid,
        privateJwk: JSON.parse(r.private_jwk) as Record<string, unknown>,
        createdAt: r.created_at,
        rotatedAt: r.rotated_at ?? undefined,
      }));
    },
    async addKey(key) {
      add(key);
    },
    async ensureActiveKey(candidate) {
      return ensure.immediate(candidate);
    },
    async rotateKeys(next, now) {
      rotate.immediate(next, now);
    },
    async pruneKeys(olderThan) {
      return prune.run(olderThan).changes;
    },
  };
}
