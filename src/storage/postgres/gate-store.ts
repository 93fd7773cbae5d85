/** GateStore on PostgreSQL: the grant and the user behind a token in one named statement (gate-rows.ts). */
import { type GateRow, gateSql, toGrantAndUser } from '../gate-rows.ts';
import type { GateStore } from '../types.ts';
import { type PgPool, query } from './pool.ts';

const SQL = gateSql({ grant: '$1', user: '$2', now: '$3' });

export function createPostgresGateStore(pool: PgPool, now: () => number): GateStore {
  return {
    async findGrantAndUser(grantId, userId) {
      const result = await query<GateRow>(pool, SQL, [grantId, userId, now()], 'sekisho_gate_read');
      return toGrantAndUser(result.rows[0]);
    },
  };
}
