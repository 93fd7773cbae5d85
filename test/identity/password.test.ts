import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SCRYPT,
  hashPassword,
  needsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from '../../src/identity/password.ts';

const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe('scrypt password hashing', () => {
  it('stores scrypt$N$r$p$salt$hash with a fresh salt per hash', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.ok(!a.includes('correct'));
  });

  it('verifies the right password only', async () => {
    const stored = await hashPassword('s3cret-pass', FAST);
    assert.equal(await verifyPassword('s3cret-pass', stored), true);
    assert.equal(await verifyPassword('s3cret-pasS', stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  it('normalises to NFKC so equivalent Unicode input verifies', async () => {
    const stored = await hashPassword('ｐａｓｓ１２３４', FAST); // full-width
    assert.equal(await verifyPassword('pass1234', stored), true);
  });

  it('treats malformed or out-of-bounds stored hashes as a mismatch, never a throw', async () => {
    for (const bad of [
      '',
      'plaintext',
      'scrypt$32768$8$1$salt',
      'scrypt$3$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA',
      `scrypt$${2 ** 24}$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA`,
      'scrypt$32768$8$1$c2F+sdA$aGFzaGhhc2hoYXNoaGFzaA',
      'bcrypt$32768$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA',
    ]) {
      assert.equal(await verifyPassword('anything', bad), false, bad);
    }
  });

  it('flags hashes made with other parameters for rehash', async () => {
    assert.equal(needsRehash(await hashPassword('x', FAST)), true);
    assert.equal(needsRehash(await hashPassword('x', DEFAULT_SCRYPT)), false);
    assert.equal(needsRehash('garbage'), true);
  });

  it('the dummy verification costs about as much as a real one', async () => {
    const stored = await hashPassword('real-password');
    const time = async (fn: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await fn();
        samples.push(performance.now() - t);
      }
      return samples.sort((a, b) => a - b)[1]!;
    };
    await verifyAgainstDummy('warm-up');
    const real = await time(() => verifyPassword('wrong-password', stored));
    const dummy = await time(() => verifyAgainstDummy('wrong-password'));
    assert.equal(await verifyAgainstDummy('real-password'), false);
    assert.ok(dummy > real * 0.4 && dummy < real * 2.5, `dummy ${dummy}ms vs real ${real}ms`);
  });
});
