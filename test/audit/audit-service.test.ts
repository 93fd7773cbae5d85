/**
 * The audit log's one emit point on its own: secret-looking details never leave it, values are
 * plain and bounded, ids sort in the order records were made, observers and the log stream see each
 * record, and a storage failure never fails the action being recorded.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { cleanDetails, createAudit } from '../../src/audit/audit.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { AuditRecord } from '../../src/storage/types.ts';

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('audit service', () => {
  it('drops secret-looking keys, keeps plain values, bounds strings and lists', () => {
    const clean = cleanDetails({
      password: 'hunter2',
      client_secret: 's',
      refresh_token: 'r',
      accessToken: 'a',
      code: 'c',
      code_verifier: 'v',
      Cookie: 'k',
      authorization: 'Bearer x',
      privateJwk: 'd',
      assertion: 'jwt',
      username: 'alice',
      count: 3,
      ok: true,
      none: null,
      nested: { password: 'x' },
      fn: () => 1,
      long: 'x'.repeat(2_000),
      list: Array.from({ length: 80 }, (_, i) => `s${i}`),
      missing: undefined,
    });
    assert.deepEqual(Object.keys(clean).sort(), ['count', 'list', 'long', 'none', 'ok', 'username']);
    assert.equal((clean.long as string).length, 513);
    assert.equal((clean.list as string[]).length, 50);
  });

  it('records through storage, the log stream and observers; ids sort within one millisecond', async () => {
    const stored: AuditRecord[] = [];
    const observed: string[] = [];
    const { lines, logger } = logLines();
    const audit = createAudit({
      storage: { appendAudit: async (r) => void stored.push(r) },
      logger,
      now: () => 1_800_000_000_000,
      observers: [(r) => observed.push(r.type)],
    });
    for (let i = 0; i < 5; i++)
      await audit.record({ type: 'signin.failed', outcome: 'failure', details: { n: i } });
    await audit.as({ kind: 'cli', name: 'ops' }).record({ type: 'key.rotated', details: { password: 'no' } });
    assert.equal(stored.length, 6);
    assert.deepEqual(
      stored.map((r) => r.id),
      [...stored.map((r) => r.id)].sort(),
      'made in order, sorted in order',
    );
    assert.deepEqual(stored[0]!.actor, { kind: 'system' });
    assert.deepEqual(stored[5]!.actor, { kind: 'cli', name: 'ops' });
    assert.deepEqual(stored[5]!.details, {});
    assert.equal(stored[0]!.ip, undefined, 'outside a request there is no address');
    assert.deepEqual(observed, [
      'signin.failed',
      'signin.failed',
      'signin.failed',
      'signin.failed',
      'signin.failed',
      'key.rotated',
    ]);
    const auditLines = lines.filter((l) => l.msg === 'audit key.rotated');
    assert.equal(auditLines.length, 1);
    assert.equal((auditLines[0]!.audit as AuditRecord).actor.kind, 'cli');
  });

  it('a storage failure is logged with the whole record and never thrown', async () => {
    const { lines, logger } = logLines();
    const audit = createAudit({
      storage: {
        appendAudit: async () => {
          throw new Error('database is locked');
        },
      },
      logger,
    });
    await audit.record({ type: 'grant.revoked', grantId: 'g1', details: { by: 'cli' } });
    const failure = lines.find((l) => l.msg === 'audit record not stored');
    assert.ok(failure, 'logged at error level');
    assert.equal(failure.level, 50);
    assert.equal((failure.audit as AuditRecord).grantId, 'g1');
  });
});
