/**
 * The limits of this process's 2025-era session copies (mcp/sessions/session-table.ts) on a fake
 * clock: idle expiry, the server-wide cap (refused), and ending by owner (grant revoked, account
 * removed). The per-owner pool cap is the directory's (test/mcp/session-directory.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Caller } from '../../src/access/policy.ts';
import { ownerOf } from '../../src/mcp/sessions/owner.ts';
import { createSessionTable, type TableEntry } from '../../src/mcp/sessions/session-table.ts';

function user(id: string, grantId = `g-${id}`): Caller {
  return {
    kind: 'user',
    userId: id,
    username: id,
    name: id,
    email: `${id}@example.test`,
    role: 'user',
    clientId: 'c',
    grantId,
    scopes: new Set(['mcp:tools']),
    expiresAt: 0,
  };
}

function table(limits: { idleSeconds?: number; max?: number } = {}) {
  let t = 1_000_000;
  const ended: string[] = [];
  const closed: string[] = [];
  const sessions = createSessionTable<TableEntry>(
    { idleSeconds: limits.idleSeconds ?? 60, max: limits.max ?? 100 },
    { now: () => t, onEnd: (e, reason) => ended.push(`${e.id}:${reason}`), sweepMs: 3_600_000 },
  );
  let n = 0;
  const open = async (caller: Caller) => {
    const owner = ownerOf(caller);
    if (!sessions.hasRoom()) return undefined;
    const id = `s${++n}`;
    sessions.add({ id, owner, lastUsed: t, close: async () => void closed.push(id) });
    return id;
  };
  return { sessions, open, ended, closed, advance: (ms: number) => (t += ms) };
}

describe('session table', () => {
  it('ends a session unused for the idle time, and closes it', async () => {
    const { sessions, open, ended, closed, advance } = table({ idleSeconds: 60 });
    const id = (await open(user('a')))!;
    advance(59_000);
    assert.ok(sessions.get(id), 'still alive before the idle time');
    sessions.touch(sessions.get(id)!);
    advance(59_000);
    assert.ok(sessions.get(id), 'a request restarts the idle time');
    advance(61_000);
    assert.equal(sessions.get(id), undefined);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ended, [`${id}:idle`]);
    assert.deepEqual(closed, [id]);
    await sessions.close();
  });

  it('refuses a new session when the server-wide cap is reached', async () => {
    const { sessions, open } = table({ max: 3 });
    for (const who of ['a', 'b', 'c']) assert.ok(await open(user(who)));
    assert.equal(await open(user('d')), undefined);
    assert.equal(sessions.size, 3);
    await sessions.close();
    assert.equal(sessions.size, 0, 'closing ends every session');
  });

  it('ends by owner: a revoked grant ends its sessions and no other', async () => {
    const { sessions, open } = table();
    const mine = (await open(user('a', 'g1')))!;
    const other = (await open(user('a', 'g2')))!;
    assert.equal(await sessions.endWhere((o) => o.grantId === 'g1', 'revoked'), 1);
    assert.equal(sessions.get(mine), undefined);
    assert.ok(sessions.get(other));
    await sessions.close();
  });
});
