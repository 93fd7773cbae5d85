/**
 * KeyStore on PostgreSQL: signing keys as JWKs; the active key is the one with `rotated_at IS NULL`.
 * Rotation and first-key creation are transactions that first take a lock excluding other writers
 * of the table (readers go on), so instances doing either at once serialise: exactly one key is
 * active afterwards, and a first key is created once however many instances start together.
 */
import type { KeyStore, SigningKeyRecord } from '../types.ts';
import { type PgClient, type PgPool, query, toStorageError, transaction } from './pool.ts';

interface Row {
  kid: string;
  private_jwk: string;
  created_at: number;
  rotated_at: number | null;
}

// Excludes other writers of the table (readers go on) for the rest of the transaction.
const LOCK = 'LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE';
const INSERT = `INSERT INTO signing_keys (kid, private_jwk, created_at, rotated_at) VALUES ($1, $2, $3, $4)`;

export function createPostgresKeyStore(pool: PgPool): KeyStore {
  const duplicateKid = () => 'kid';
  const insert = (db: PgPool | PgClient, key: SigningKeyRecord) =>
    db.query(INSERT, [key.kid, JSON.stringify(key.privateJwk), key.createdAt, key.rotatedAt ?? null]);

  return {
    async listKeys() {
      // Active key first, then the most recently created: oidc-provider signs with the first match.
      const result = await query<Row>(
        pool,
        `SELECT kid, private_jwk, created_at, rotated_at FROM signing_keys
         ORDER BY rotated_at IS NOT NULL, created_at DESC, kid COLLATE "C"`,
        [],
        'sekisho_keys_list',
      );
      return result.rows.map((r) => ({
        kid: r.kid,
        privateJwk: JSON.parse(r.private_jwk) as Record<string, unknown>,
        createdAt: r.created_at,
        rotatedAt: r.rotated_at ?? undefined,
      }));
    },
    async addKey(key) {
      try {
        await insert(pool, key);
      } catch (error) {
        throw toStorageError(error, duplicateKid);
      }
    },
    async ensureActiveKey(candidate) {
      try {
        return await transaction(pool, async (client) => {
          await client.query(LOCK);
          const active = await client.query('SELECT 1 FROM signing_keys WHERE rotated_at IS NULL LIMIT 1');
          if (active.rowCount) return false;
          await insert(client, { ...candidate, rotatedAt: undefined });
          return true;
        });
      } catch (error) {
        throw toStorageError(error, duplicateKid);
      }
    },
    async rotateKeys(next, now) {
      try {
        await transaction(pool, async (client) => {
          await client.query(LOCK);
          await client.query('UPDATE signing_keys SET rotated_at = $1 WHERE rotated_at IS NULL', [now]);
          await insert(client, { ...next, rotatedAt: undefined });
        });
      } catch (error) {
        throw toStorageError(error, duplicateKid);
      }
    },
    async pruneKeys(olderThan) {
      const result = await query(
        pool,
        'DELETE FROM signing_keys WHERE rotated_at IS NOT NULL AND rotated_at < $1',
        [olderThan],
      );
      return result.rowCount ?? 0;
    },
  };
}
