import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createHashPool, HashBusyError, type ScryptJob } from '../../src/identity/hash-pool.ts';

const job = (i = 0): ScryptJob => ({
  password: Buffer.from(`password-${i}`),
  salt: Buffer.from('0123456789abcdef'),
  N: 2 ** 12,
  r: 8,
  p: 1,
  length: 32,
});

describe('password hash pool', () => {
  it('derives exactly what scrypt derives', async () => {
    const pool = createHashPool({ concurrency: 1, queue: 4 });
    try {
      const j = job(7);
      const expected = scryptSync(j.password, j.salt, 32, { N: j.N, r: j.r, p: j.p });
      assert.deepEqual(await pool.derive(j), expected);
    } finally {
      await pool.close();
    }
  });

  it('starts no worker until the first check; an idle worker exits and the next check starts one again', async () => {
    const pool = createHashPool({ concurrency: 2, queue: 2, idleExitMs: 150 });
    try {
      assert.equal(pool.load().workers, 0, 'nothing at start');
      const j = job(3);
      const expected = scryptSync(j.password, j.salt, 32, { N: j.N, r: j.r, p: j.p });
      assert.deepEqual(await pool.derive(j), expected);
      assert.equal(pool.load().workers, 1, 'one check, one worker');
      const deadline = Date.now() + 10_000;
      while (pool.load().workers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      assert.equal(pool.load().workers, 0, 'the idle worker exited');
      assert.deepEqual(await pool.derive(j), expected, 'a new worker answers the next check');
      assert.equal(pool.load().workers, 1);
      // Work is never cut short by the idle timer: four checks at once through two workers and the queue.
      const results = await Promise.all([1, 2, 3, 4].map((i) => pool.derive(job(i))));
      assert.equal(results.length, 4);
    } finally {
      await pool.close();
    }
  });

  it('runs at most `concurrency` at once, queues at most `queue`, refuses the rest at once', async () => {
    const pool = createHashPool({ concurrency: 2, queue: 3 });
    try {
      let peak = 0;
      const attempts = Array.from({ length: 20 }, (_, i) => {
        const p = pool.derive(job(i));
        const { running } = pool.load();
        peak = Math.max(peak, running);
        return p.then(
          () => 'done',
          (e) => (e instanceof HashBusyError && e.retryAfterSeconds >= 1 ? 'busy' : String(e)),
        );
      });
      assert.deepEqual(pool.load(), { running: 2, queued: 3, workers: 2 });
      const outcomes = await Promise.all(attempts);
      assert.equal(outcomes.filter((o) => o === 'done').length, 5);
      assert.equal(outcomes.filter((o) => o === 'busy').length, 15);
      assert.equal(peak, 2);
      assert.deepEqual(pool.load(), { running: 0, queued: 0, workers: 2 });
      assert.equal(await pool.derive(job()).then(() => 'done'), 'done', 'room again once drained');
    } finally {
      await pool.close();
    }
  });

  it('holds one client address to a quarter of the slots, leaving room for everyone else', async () => {
    const pool = createHashPool({ concurrency: 1, queue: 7 }); // 8 slots → 2 per address
    try {
      const noisy = Array.from({ length: 10 }, (_, i) =>
        pool.derive(job(i), '198.51.100.1').then(
          () => 'done',
          () => 'busy',
        ),
      );
      const other = pool.derive(job(99), '192.0.2.1').then(() => 'done');
      assert.deepEqual(await Promise.all(noisy), ['done', 'done', ...Array(8).fill('busy')]);
      assert.equal(await other, 'done');
      assert.equal(await pool.derive(job(1), '198.51.100.1').then(() => 'done'), 'done', 'share returned');
    } finally {
      await pool.close();
    }
  });
});
