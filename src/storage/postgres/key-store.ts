/**
 * KeyStore on PostgreSQL: signing keys as JWKs; the active key is the one with `rotated_at IS NULL`.
 * Rotation is one transaction that first takes a lock excluding other writers of the table (readers
 * go on), so two instances rotating at once — or both creating a first key on an empty database —
 * serialise: the second retires the first's key, and exactly one key is active afterwards.
 */
import type { KeyStore, SigningKeyRecord } from '../types.ts';
import { type PgClient, type PgPool, query, toStorageError, transaction } from './pool.ts';

interface Row {
  kid: string;
  private_jwk: string;
  created_at: number;
  rotated_at: number | null;
}

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
    async rotateKeys(next, now) {
      try {
        await transaction(pool, async (client) => {
          await client.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
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
