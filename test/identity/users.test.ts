import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { DEMO_USERS, seedDemoUsers } from '../../src/identity/demo.ts';
import { createHashPool } from '../../src/identity/hash-pool.ts';
import { createIdentity, type Identity } from '../../src/identity/users.ts';
import { IdentityError } from '../../src/identity/validation.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { Storage } from '../../src/storage/types.ts';

const T0 = Date.UTC(2030, 0, 1); // aligned to the 15-minute window
const IP = '203.0.113.7';
/** Cheap scrypt for speed; the production cost is tested in password.test.ts. */
const FAST = { N: 2 ** 10, r: 8, p: 1 };

const code = (c: string) => (e: unknown) => e instanceof IdentityError && e.code === c;

describe('identity', () => {
  let t = T0;
  let storage: Storage;
  let id: Identity;
  beforeEach(() => {
    t = T0;
    storage = openSqliteStorage({ path: ':memory:', now: () => t });
    id = createIdentity({ storage, scrypt: FAST, now: () => t });
  });

  it('adds a user with a normalised username, stable id and no hash exposed', async () => {
    const user = await id.addUser({
      username: '  Alice.Smith ',
      password: 'password-1',
      name: 'Alice',
      email: 'alice@example.com',
    });
    assert.match(user.id, /^usr_[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(user, {
      id: user.id,
      username: 'alice.smith',
      name: 'Alice',
      email: 'alice@example.com',
      role: 'user',
      createdAt: T0,
    });
    assert.equal('passwordHash' in user, false);
    assert.deepEqual(await id.findByUsername('ALICE.SMITH'), user);
    assert.deepEqual(await id.findById(user.id), user);
    assert.match((await storage.findUserById(user.id))!.passwordHash, /^scrypt\$/);
    assert.deepEqual(
      (await id.listUsers()).map((u) => u.username),
      ['alice.smith'],
    );
  });

  it('validates input with typed errors', async () => {
    await assert.rejects(
      id.addUser({ username: 'bad name', password: 'password-1' }),
      code('invalid_username'),
    );
    await assert.rejects(
      id.addUser({ username: 'x'.repeat(65), password: 'password-1' }),
      code('invalid_username'),
    );
    await assert.rejects(id.addUser({ username: 'ok', password: 'short' }), code('weak_password'));
    await assert.rejects(
      id.addUser({ username: 'ok', password: 'password-1', email: 'not-an-email' }),
      code('invalid_email'),
    );
    await assert.rejects(
      id.addUser({ username: 'ok', password: 'password-1', role: 'root' as 'admin' }),
      code('invalid_role'),
    );
    await id.addUser({ username: 'ok', password: 'password-1' });
    await assert.rejects(id.addUser({ username: 'OK', password: 'password-2' }), code('duplicate_username'));
    await assert.rejects(id.setRole('ghost', 'admin'), code('not_found'));
    await assert.rejects(id.removeUser('ghost'), code('not_found'));
  });

  it('authenticates the right password, refuses others without saying why', async () => {
    const user = await id.addUser({ username: 'bob', password: 'hunter2-hunter2' });
    assert.deepEqual(await id.authenticate('Bob', 'hunter2-hunter2', IP), { ok: true, user });
    assert.deepEqual(await id.authenticate('bob', 'wrong', IP), { ok: false, reason: 'invalid' });
    assert.deepEqual(await id.authenticate('nobody', 'wrong', IP), { ok: false, reason: 'invalid' });
    assert.deepEqual(await id.authenticate('not valid!', 'wrong', IP), { ok: false, reason: 'invalid' });
  });

  it('a stranger hammering a username blocks only their own address: the owner signs in from another', async () => {
    await id.addUser({ username: 'carol', password: 'carol-password' });
    const stranger = '198.51.100.66';
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await id.authenticate('carol', `wrong-${i}`, stranger), {
        ok: false,
        reason: 'invalid',
      });
    }
    t += 60_000;
    // Even the right password is refused from the address that used up the pair's attempts …
    assert.deepEqual(await id.authenticate('carol', 'carol-password', stranger), {
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 14 * 60,
    });
    // … but the owner, from a fresh address, signs in while the stranger keeps hammering.
    const hammering = Array.from({ length: 20 }, (_, i) => id.authenticate('carol', `guess-${i}`, stranger));
    assert.equal((await id.authenticate('carol', 'carol-password', '192.0.2.10')).ok, true);
    assert.ok((await Promise.all(hammering)).every((r) => !r.ok && r.reason === 'throttled'));
    // Unknown usernames are throttled the same way (no existence oracle).
    for (let i = 0; i < 5; i++) await id.authenticate('nobody', 'x', stranger);
    assert.equal((await id.authenticate('nobody', 'x', stranger)).ok || 'throttled', 'throttled');
    t = T0 + 15 * 60_000; // next window
    assert.equal((await id.authenticate('carol', 'carol-password', stranger)).ok, true);
  });

  it('failures of a username from anywhere add a progressive, capped delay — never a refusal', async () => {
    const delays: number[] = [];
    id = createIdentity({ storage, scrypt: FAST, now: () => t, sleep: async (ms) => void delays.push(ms) });
    await id.addUser({ username: 'dave', password: 'dave-password' });
    for (let i = 0; i < 10; i++) await id.authenticate('dave', 'wrong', `192.0.2.${i}`);
    assert.deepEqual(delays, [250, 500, 1000, 2000, 2000]);
    assert.equal((await id.authenticate('dave', 'dave-password', '192.0.2.99')).ok, true);
    assert.equal(delays.at(-1), 2000, 'the right password waits too, then succeeds');
  });

  it('60 concurrent wrong attempts from one address are cut at exactly the per-IP limit (20)', async () => {
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) => id.authenticate(`user${i}`, 'wrong', IP)),
    );
    const reasons = burst.map((r) => (r.ok ? 'ok' : r.reason));
    assert.equal(reasons.filter((r) => r === 'invalid').length, 20);
    assert.equal(reasons.filter((r) => r === 'throttled').length, 40);
    await id.addUser({ username: 'erin', password: 'erin-password' });
    const blocked = await id.authenticate('erin', 'erin-password', IP);
    assert.equal(!blocked.ok && blocked.reason, 'throttled');
    assert.equal(
      (await id.authenticate('erin', 'erin-password', '192.0.2.200')).ok,
      true,
      'other IPs unaffected',
    );
  });

  it('successful sign-ins from one address (an office behind NAT) never use up its limit', async () => {
    await id.addUser({ username: 'gina', password: 'gina-password' });
    for (let i = 0; i < 30; i++) {
      assert.equal((await id.authenticate('gina', 'gina-password', IP)).ok, true, `sign-in ${i}`);
    }
    for (let i = 0; i < 4; i++) await id.authenticate('gina', 'wrong', IP);
    assert.equal((await id.authenticate('gina', 'gina-password', IP)).ok, true);
  });

  it('a full hashing pool answers busy with Retry-After, and the refused attempts count against no one', async () => {
    const pool = createHashPool({ concurrency: 1, queue: 3 }); // one address may hold one of the 4 slots
    try {
      id = createIdentity({ storage, scrypt: FAST, now: () => t, hashPool: pool });
      await id.addUser({ username: 'hank', password: 'hank-password' });
      const burst = await Promise.all(Array.from({ length: 5 }, () => id.authenticate('hank', 'wrong', IP)));
      const busy = burst.filter((r) => !r.ok && r.reason === 'busy');
      assert.equal(burst.filter((r) => !r.ok && r.reason === 'invalid').length, 1, "this address's one slot");
      assert.equal(busy.length, 4);
      assert.ok(busy.every((r) => !r.ok && r.reason === 'busy' && r.retryAfterSeconds >= 1));
      // Only the checked attempt counts: 4 more wrong ones fit under the pair limit of 5, then no more.
      for (let i = 0; i < 4; i++) {
        const r = await id.authenticate('hank', 'wrong', IP);
        assert.equal(!r.ok && r.reason, 'invalid');
      }
      const sixth = await id.authenticate('hank', 'wrong', IP);
      assert.equal(!sixth.ok && sixth.reason, 'throttled');
      assert.equal((await id.authenticate('hank', 'hank-password', '192.0.2.3')).ok, true);
    } finally {
      await pool.close();
    }
  });

  it('changes password and role; removal revokes the user’s grants and sessions', async () => {
    const frank = await id.addUser({ username: 'frank', password: 'first-password' });
    await id.setPassword('frank', 'second-password');
    assert.equal((await id.authenticate('frank', 'first-password', IP)).ok, false);
    assert.equal((await id.authenticate('frank', 'second-password', IP)).ok, true);
    await assert.rejects(id.setPassword('frank', 'short'), code('weak_password'));
    assert.equal((await id.setRole('frank', 'admin')).role, 'admin');
    assert.equal((await id.findById(frank.id))?.role, 'admin');

    await storage.upsert('Grant', 'g-frank', { accountId: frank.id, clientId: 'c' }, 600);
    await storage.upsert('RefreshToken', 'rt-frank', { accountId: frank.id, grantId: 'g-frank' }, 600);
    await storage.upsert('Session', 's-frank', { accountId: frank.id }, 600);
    await storage.upsert('Grant', 'g-other', { accountId: 'usr_other', clientId: 'c' }, 600);
    assert.equal((await id.removeUser('FRANK')).id, frank.id);
    assert.equal(await id.findByUsername('frank'), undefined);
    assert.equal(await storage.find('Grant', 'g-frank'), undefined);
    assert.equal(await storage.find('RefreshToken', 'rt-frank'), undefined);
    assert.equal(await storage.find('Session', 's-frank'), undefined);
    assert.ok(await storage.find('Grant', 'g-other'));
  });

  it('a new password ends sessions and revokes grants; a lowered role ends sessions; raising keeps both', async () => {
    const ivy = await id.addUser({ username: 'ivy', password: 'first-password', role: 'admin' });
    const issue = async () => {
      await storage.upsert('Grant', 'g-ivy', { accountId: ivy.id, clientId: 'c' }, 600);
      await storage.upsert('RefreshToken', 'rt-ivy', { accountId: ivy.id, grantId: 'g-ivy' }, 600);
      await storage.upsert('Session', 's-ivy', { accountId: ivy.id }, 600);
    };
    const alive = async () =>
      [
        await storage.find('Grant', 'g-ivy'),
        await storage.find('RefreshToken', 'rt-ivy'),
        await storage.find('Session', 's-ivy'),
      ].map(Boolean);
    await storage.upsert('Session', 's-other', { accountId: 'usr_other' }, 600);

    await issue();
    const stamp = await id.credentialStamp(ivy.id);
    await id.setPassword('ivy', 'second-password');
    assert.deepEqual(await alive(), [false, false, false], 'passwd');
    assert.notEqual(await id.credentialStamp(ivy.id), stamp);

    await issue();
    await id.setRole('ivy', 'user');
    assert.deepEqual(await alive(), [true, true, false], 'admin → user: session ended, grant clamped later');

    await issue();
    await id.setRole('ivy', 'admin');
    assert.deepEqual(await alive(), [true, true, true], 'user → admin keeps what was granted');
    assert.ok(await storage.find('Session', 's-other'), 'other users untouched');
    assert.equal(await id.credentialStamp('usr_nobody'), undefined);
  });

  it('seeds the three demo users idempotently, keeping operator changes', async () => {
    const first = await seedDemoUsers(id);
    assert.deepEqual(
      first.map((u) => [u.username, u.role, u.name, u.email, u.password]),
      [
        ['inspector', 'admin', 'MCP Inspector User', 'inspector@mcp.test', 'inspector123'],
        ['admin', 'admin', 'Admin User', 'admin@example.com', 'admin123'],
        ['demo', 'user', 'Demo User', 'demo@example.com', 'demo123'],
      ],
    );
    assert.equal(DEMO_USERS.length, 3);
    await id.setRole('demo', 'admin');
    const second = await seedDemoUsers(id);
    assert.deepEqual(
      second.map((u) => u.id),
      first.map((u) => u.id),
    );
    assert.equal((await id.findByUsername('demo'))?.role, 'admin');
    assert.equal((await id.listUsers()).length, 3);
    assert.equal((await id.authenticate('inspector', 'inspector123', IP)).ok, true);
  });
});
