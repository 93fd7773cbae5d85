/** GateStore on SQLite: the grant and the user behind a token in one prepared statement (gate-rows.ts). */
import type { Database } from 'better-sqlite3';
import { type GateRow, gateSql, toGrantAndUser } from '../gate-rows.ts';
import type { GateStore } from '../types.ts';

export function createSqliteGateStore(db: Database, now: () => number): GateStore {
  const read = db.prepare(gateSql({ grant: '@grantId', user: '@userId', now: '@now' }));
  return {
    async findGrantAndUser(grantId, userId) {
      return toGrantAndUser(read.get({ grantId, userId, now: now() }) as GateRow | undefined);
    },
  };
}
