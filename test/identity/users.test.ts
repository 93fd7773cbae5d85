import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { DEMO_USERS, seedDemoUsers } from '../../src/identity/demo.ts';
import { createIdentity, type Identity } from '../../src/identity/users.ts';
import { IdentityError } from '../../src/identity/validation.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { Storage } from '../../src/storage/types.ts';

const T0 = Date.UTC(2030, 0, 1); // aligned to the 15-minute window
const IP = '203.0.113.7';

const code = (c: string) => (e: unknown) => e instanceof IdentityError && e.code === c;

describe('identity', () => {
  let t = T0;
  let storage: Storage;
  let id: Identity;
  beforeEach(() => {
    t = T0;
    storage = openSqliteStorage({ path: ':memory:', now: () => t });
    id = createIdentity({ storage, now: () => t });
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

  it('throttles a username after 5 attempts in 15 minutes, for known and unknown names alike', async () => {
    await id.addUser({ username: 'carol', password: 'carol-password' });
    for (const [n, name] of ['carol', 'nobody'].entries()) {
      for (let i = 0; i < 5; i++) {
        assert.equal((await id.authenticate(name, `wrong-${i}`, `198.51.100.${i}`)).ok, false);
      }
      t += 60_000;
      const result = await id.authenticate(name, 'carol-password', '198.51.100.99');
      assert.deepEqual(result, { ok: false, reason: 'throttled', retryAfterSeconds: (14 - n) * 60 });
    }
    t = T0 + 15 * 60_000; // next window
    assert.equal((await id.authenticate('carol', 'carol-password', IP)).ok, true);
  });

  it('a success resets the username counter; parallel guesses cannot exceed the limit', async () => {
    await id.addUser({ username: 'dave', password: 'dave-password' });
    for (let i = 0; i < 4; i++) await id.authenticate('dave', 'wrong', IP);
    assert.equal((await id.authenticate('dave', 'dave-password', IP)).ok, true);
    for (let i = 0; i < 4; i++) assert.equal((await id.authenticate('dave', 'wrong', '192.0.2.1')).ok, false);
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) => id.authenticate('dave', `guess-${i}`, `192.0.2.${i + 10}`)),
    );
    const reasons = burst.map((r) => (r.ok ? 'ok' : r.reason));
    assert.equal(reasons.filter((r) => r === 'invalid').length, 1, 'only one guess left after 4 failures');
    assert.equal(reasons.filter((r) => r === 'throttled').length, 9);
  });

  it('throttles an IP after 20 failures across usernames', async () => {
    await id.addUser({ username: 'erin', password: 'erin-password' });
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await id.authenticate(`user${i}`, 'wrong', IP), { ok: false, reason: 'invalid' });
    }
    const blocked = await id.authenticate('erin', 'erin-password', IP);
    assert.equal(blocked.ok, false);
    assert.equal(!blocked.ok && blocked.reason, 'throttled');
    assert.equal(
      (await id.authenticate('erin', 'erin-password', '192.0.2.200')).ok,
      true,
      'other IPs unaffected',
    );
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
