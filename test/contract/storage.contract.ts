/**
 * The behaviour every Storage backend must show, as one reusable suite. `sqlite.test.ts` runs it
 * against SQLite; a PostgreSQL + Redis backend runs the same suite by passing its own factory.
 *
 * Backends must take time from the injected clock (`ctx.now`, ms since the epoch) for expiry,
 * consumption stamps and rate-limit windows, so these tests move time without sleeping.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DuplicateError } from '../../src/storage/errors.ts';
import type {
  AuditRecord,
  OidcModel,
  SigningKeyRecord,
  Storage,
  UserRecord,
} from '../../src/storage/types.ts';

export interface ContractClock {
  now(): number;
  advance(ms: number): void;
}

export type StorageFactory = (ctx: { now: () => number }) => Storage | Promise<Storage>;

/** A fixed start aligned to a 15-minute boundary, so window arithmetic is predictable. */
const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);

export function runStorageContract(name: string, open: StorageFactory): void {
  describe(`Storage contract: ${name}`, () => {
    let t = T0;
    const clock: ContractClock = { now: () => t, advance: (ms) => (t += ms) };
    let s: Storage;

    beforeEach(async () => {
      t = T0;
      s = await open({ now: clock.now });
    });
    afterEach(async () => {
      await s.close();
    });

    describe('OidcStore', () => {
      it('upsert then find round-trips the payload; a missing id is undefined', async () => {
        await s.upsert(
          'AccessToken',
          'at1',
          { accountId: 'u1', clientId: 'c1', grantId: 'g1', scope: 'a b' },
          60,
        );
        assert.deepEqual(await s.find('AccessToken', 'at1'), {
          accountId: 'u1',
          clientId: 'c1',
          grantId: 'g1',
          scope: 'a b',
        });
        assert.equal(await s.find('AccessToken', 'nope'), undefined);
        assert.equal(await s.find('RefreshToken', 'at1'), undefined, 'ids are scoped by model');
      });

      it('upsert overwrites the payload and expiry of an existing row', async () => {
        await s.upsert('Session', 's1', { accountId: 'u1', uid: 'uid-1' }, 10);
        await s.upsert('Session', 's1', { accountId: 'u2', uid: 'uid-2' }, 100);
        assert.deepEqual(await s.find('Session', 's1'), { accountId: 'u2', uid: 'uid-2' });
        assert.equal(await s.findByUid('Session', 'uid-1'), undefined);
        clock.advance(50_000);
        assert.deepEqual(await s.find('Session', 's1'), { accountId: 'u2', uid: 'uid-2' });
      });

      it('findByUid and findByUserCode look up live rows of the model', async () => {
        await s.upsert('Session', 's1', { uid: 'U1' }, 60);
        await s.upsert('DeviceCode', 'd1', { userCode: 'ABCD-EFGH', grantId: 'g' }, 60);
        assert.deepEqual(await s.findByUid('Session', 'U1'), { uid: 'U1' });
        assert.equal(await s.findByUid('Interaction', 'U1'), undefined);
        assert.deepEqual(await s.findByUserCode('DeviceCode', 'ABCD-EFGH'), {
          userCode: 'ABCD-EFGH',
          grantId: 'g',
        });
        assert.equal(await s.findByUserCode('DeviceCode', 'XXXX'), undefined);
      });

      it('consume marks the row consumed (epoch seconds) exactly once', async () => {
        await s.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, 60);
        assert.equal(await s.consume('AuthorizationCode', 'c1'), true);
        assert.deepEqual(await s.find('AuthorizationCode', 'c1'), {
          grantId: 'g1',
          consumed: Math.floor(T0 / 1000),
        });
        assert.equal(await s.consume('AuthorizationCode', 'c1'), false);
        assert.equal(await s.consume('AuthorizationCode', 'missing'), false);
      });

      it('consume under 20 concurrent callers: exactly one wins', async () => {
        await s.upsert('RefreshToken', 'rt', { grantId: 'g1' }, 600);
        const results = await Promise.all(Array.from({ length: 20 }, () => s.consume('RefreshToken', 'rt')));
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(results.filter((r) => !r).length, 19);
      });

      it('an upsert carrying `consumed` keeps the row consumed', async () => {
        await s.upsert('RefreshToken', 'rt', { grantId: 'g1', consumed: 1_900_000_000 }, 600);
        assert.equal((await s.find('RefreshToken', 'rt'))?.consumed, 1_900_000_000);
        assert.equal(await s.consume('RefreshToken', 'rt'), false);
      });

      it('destroy removes one row', async () => {
        await s.upsert('Interaction', 'i1', { uid: 'x' }, 60);
        await s.upsert('Interaction', 'i2', { uid: 'y' }, 60);
        await s.destroy('Interaction', 'i1');
        await s.destroy('Interaction', 'never-existed');
        assert.equal(await s.find('Interaction', 'i1'), undefined);
        assert.ok(await s.find('Interaction', 'i2'));
      });

      it('revokeByGrantId removes every model row of that grant, and only those', async () => {
        const models: OidcModel[] = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode'];
        for (const m of models) {
          await s.upsert(m, `${m}-g1`, { grantId: 'g1' }, 600);
          await s.upsert(m, `${m}-g2`, { grantId: 'g2' }, 600);
        }
        await s.upsert('Grant', 'g1', { accountId: 'u1', clientId: 'c1' }, 600);
        await s.revokeByGrantId('g1');
        for (const m of models) {
          assert.equal(await s.find(m, `${m}-g1`), undefined, `${m} of g1 revoked`);
          assert.deepEqual(await s.find(m, `${m}-g2`), { grantId: 'g2' }, `${m} of g2 kept`);
        }
        // The Grant row itself is the caller's decision (oidc-provider's revokeGrantPolicy).
        assert.ok(await s.find('Grant', 'g1'));
      });

      it('only grants, sessions, clients and registration tokens are listed by owner', async () => {
        await s.upsert('RefreshToken', 'rt', { accountId: 'u9', clientId: 'c9', grantId: 'g9' }, 100);
        await s.upsert('Grant', 'g9', { accountId: 'u9', clientId: 'c9' }, 100);
        await s.upsert('RegistrationAccessToken', 'rat', { clientId: 'c9' }, 100);
        await assert.rejects(s.list('RefreshToken', { accountId: 'u9' }), TypeError);
        await assert.rejects(s.list('AccessToken', { clientId: 'c9' }), TypeError);
        assert.deepEqual(
          (await s.list('Grant', { accountId: 'u9', clientId: 'c9' })).map((r) => r.id),
          ['g9'],
        );
        assert.deepEqual(
          (await s.list('RegistrationAccessToken', { clientId: 'c9' })).map((r) => r.id),
          ['rat'],
        );
        // Tokens still belong to their grant: revoking it removes them.
        await s.revokeByGrantId('g9');
        assert.equal(await s.find('RefreshToken', 'rt'), undefined);
      });

      it('expiry is honoured by find, findByUid, consume, list and sweep', async () => {
        await s.upsert('AccessToken', 'short', { accountId: 'u1' }, 10);
        await s.upsert('Session', 'sess', { accountId: 'u1', uid: 'UID' }, 10);
        await s.upsert('AccessToken', 'long', { accountId: 'u1' }, 1000);
        await s.upsert('Grant', 'g-long', { accountId: 'u1' }, 1000);
        await s.upsert('Client', 'forever', { client_id: 'forever' }, undefined);
        clock.advance(9_999);
        assert.ok(await s.find('AccessToken', 'short'));
        clock.advance(1);
        assert.equal(await s.find('AccessToken', 'short'), undefined);
        assert.equal(await s.findByUid('Session', 'UID'), undefined);
        assert.equal(await s.consume('AccessToken', 'short'), false);
        assert.deepEqual(
          (await s.list('AccessToken')).map((r) => r.id),
          ['long'],
        );
        assert.deepEqual(
          (await s.list('Session', { accountId: 'u1' })).map((r) => r.id),
          [],
          'the expired session is not listed',
        );
        assert.deepEqual(
          (await s.list('Grant', { accountId: 'u1' })).map((r) => r.id),
          ['g-long'],
        );
        assert.equal(await s.sweep(), 2);
        assert.equal(await s.sweep(), 0);
        clock.advance(10 * 365 * 86_400_000);
        assert.ok(await s.find('Client', 'forever'), 'rows without expiry never expire');
        assert.equal(await s.sweep(), 2, 'the long-lived token and grant');
      });

      it("Sekisho's own UpstreamLogin rows: round trip, taken once under concurrency, gone at expiry", async () => {
        const row = { providerId: 'acme', uid: 'interaction-1', nonce: 'n', codeVerifier: 'v', browser: 'b' };
        await s.upsert('UpstreamLogin', 'state-digest', row, 600);
        assert.deepEqual(await s.find('UpstreamLogin', 'state-digest'), row);
        assert.equal(await s.find('Interaction', 'state-digest'), undefined, 'models do not mix');
        const takes = await Promise.all(
          Array.from({ length: 10 }, () => s.consume('UpstreamLogin', 'state-digest')),
        );
        assert.equal(takes.filter(Boolean).length, 1, 'exactly one callback wins');
        assert.ok((await s.find('UpstreamLogin', 'state-digest'))?.consumed);
        await s.upsert('UpstreamLogin', 'other', row, 600);
        clock.advance(600_000);
        assert.equal(await s.find('UpstreamLogin', 'other'), undefined);
        assert.equal(await s.consume('UpstreamLogin', 'other'), false);
      });

      it('list filters by accountId and clientId (client_id for Client rows) and reports times', async () => {
        await s.upsert('Grant', 'g1', { accountId: 'alice', clientId: 'app1' }, 600);
        clock.advance(1000);
        await s.upsert('Grant', 'g2', { accountId: 'alice', clientId: 'app2' }, 600);
        await s.upsert('Grant', 'g3', { accountId: 'bob', clientId: 'app1' }, 600);
        await s.upsert('Client', 'app1', { client_id: 'app1', client_name: 'One' }, undefined);
        const ids = async (f?: { accountId?: string; clientId?: string }) =>
          (await s.list('Grant', f)).map((r) => r.id).sort();
        assert.deepEqual(await ids(), ['g1', 'g2', 'g3']);
        assert.deepEqual(await ids({ accountId: 'alice' }), ['g1', 'g2']);
        assert.deepEqual(await ids({ clientId: 'app1' }), ['g1', 'g3']);
        assert.deepEqual(await ids({ accountId: 'alice', clientId: 'app1' }), ['g1']);
        assert.deepEqual(await ids({ accountId: 'nobody' }), []);
        const [client] = await s.list('Client', { clientId: 'app1' });
        assert.equal(client?.payload.client_name, 'One');
        const [g1] = await s.list('Grant', { accountId: 'alice', clientId: 'app1' });
        assert.equal(g1?.createdAt, T0);
        assert.equal(g1?.expiresAt, T0 + 600_000);
        assert.equal(g1?.lastUsedAt, undefined);
      });

      it('takeExpired removes and returns only the expired rows of one model', async () => {
        await s.upsert('Client', 'c-old', { client_id: 'c-old', client_name: 'Old' }, 60);
        await s.upsert('Client', 'c-live', { client_id: 'c-live' }, 3600);
        await s.upsert('Client', 'c-forever', { client_id: 'c-forever' }, undefined);
        await s.upsert('Session', 's-old', { accountId: 'u' }, 60);
        clock.advance(60_000);
        const taken = await s.takeExpired('Client');
        assert.deepEqual(
          taken.map((r) => [r.id, r.payload.client_name]),
          [['c-old', 'Old']],
        );
        assert.deepEqual(await s.takeExpired('Client'), [], 'taken once');
        assert.deepEqual((await s.list('Client')).map((r) => r.id).sort(), ['c-forever', 'c-live']);
        assert.deepEqual(
          (await s.takeExpired('Session')).map((r) => r.id),
          ['s-old'],
          'other models are untouched until asked',
        );
      });

      it('touch records last use and slides expiry without rewriting the payload', async () => {
        await s.upsert('Client', 'c1', { client_id: 'c1' }, 100);
        clock.advance(90_000);
        assert.equal(await s.touch('Client', 'c1', 100), true);
        clock.advance(90_000);
        const [row] = await s.list('Client');
        assert.equal(row?.lastUsedAt, T0 + 90_000);
        assert.equal(row?.expiresAt, T0 + 190_000);
        assert.deepEqual(row?.payload, { client_id: 'c1' });
        assert.equal(await s.touch('Grant', 'c1'), false);
        clock.advance(20_000);
        assert.equal(await s.touch('Client', 'c1', 100), false, 'an expired row cannot be revived');
        assert.equal(await s.touch('Client', 'missing'), false);
      });
    });

    describe('UserStore', () => {
      const alice: UserRecord = {
        id: 'usr_a',
        username: 'alice',
        name: 'Alice',
        email: 'alice@example.com',
        role: 'user',
        passwordHash: 'scrypt$x',
        createdAt: T0,
      };

      it('creates, finds, lists, updates and deletes users', async () => {
        await s.createUser(alice);
        await s.createUser({ ...alice, id: 'usr_b', username: 'bob', role: 'admin' });
        assert.deepEqual(await s.findUserById('usr_a'), alice);
        assert.deepEqual(await s.findUserByUsername('alice'), alice);
        assert.equal(await s.findUserByUsername('carol'), undefined);
        assert.deepEqual(
          (await s.listUsers()).map((u) => u.username),
          ['alice', 'bob'],
        );
        assert.equal(await s.updateUser('usr_a', { role: 'admin', passwordHash: 'scrypt$y' }), true);
        assert.deepEqual(await s.findUserById('usr_a'), {
          ...alice,
          role: 'admin',
          passwordHash: 'scrypt$y',
        });
        assert.equal(await s.updateUser('usr_zzz', { name: 'x' }), false);
        assert.equal(await s.deleteUser('usr_a'), true);
        assert.equal(await s.deleteUser('usr_a'), false);
        assert.equal(await s.findUserById('usr_a'), undefined);
      });

      it('rejects a duplicate username or id with DuplicateError', async () => {
        await s.createUser(alice);
        await assert.rejects(s.createUser({ ...alice, id: 'usr_other' }), (e: unknown) => {
          assert.ok(e instanceof DuplicateError);
          assert.equal(e.field, 'username');
          return true;
        });
        await assert.rejects(s.createUser({ ...alice, username: 'other' }), DuplicateError);
      });

      it('disables and enables a user; other patches keep the disabled state', async () => {
        await s.createUser(alice);
        assert.equal(await s.updateUser('usr_a', { disabledAt: T0 + 5 }), true);
        assert.equal((await s.findUserById('usr_a'))?.disabledAt, T0 + 5);
        await s.updateUser('usr_a', { name: 'Alice A.' });
        assert.deepEqual(await s.findUserByUsername('alice'), {
          ...alice,
          name: 'Alice A.',
          disabledAt: T0 + 5,
        });
        assert.equal((await s.listUsers())[0]?.disabledAt, T0 + 5);
        await s.updateUser('usr_a', { disabledAt: null });
        assert.deepEqual(await s.findUserById('usr_a'), { ...alice, name: 'Alice A.' });
      });
    });

    describe('GateStore', () => {
      const carol: UserRecord = {
        id: 'usr_c',
        username: 'carol',
        name: 'Carol',
        email: 'carol@example.com',
        role: 'user',
        passwordHash: 'scrypt$secret',
        createdAt: T0,
      };
      const { passwordHash: _hash, ...carolSeen } = carol;
      const grant = { accountId: 'usr_c', clientId: 'cl_1', exp: T0 / 1000 + 60 };

      it('reads the live grant and the user together, without the password hash', async () => {
        await s.createUser(carol);
        await s.upsert('Grant', 'g1', grant, 60);
        await s.upsert('AccessToken', 'g1', { grantId: 'other' }, 60); // another model, same id
        assert.deepEqual(await s.findGrantAndUser('g1', 'usr_c'), { grant, user: carolSeen });
      });

      it('answers every combination of present and absent in one shape', async () => {
        await s.createUser(carol);
        await s.upsert('Grant', 'g1', grant, 60);
        assert.deepEqual(await s.findGrantAndUser('nope', 'usr_c'), { grant: undefined, user: carolSeen });
        assert.deepEqual(await s.findGrantAndUser('g1', 'nobody'), { grant, user: undefined });
        assert.deepEqual(await s.findGrantAndUser('nope', 'nobody'), { grant: undefined, user: undefined });
        assert.deepEqual(await s.findGrantAndUser("g1' OR '1'='1", "x' OR '1'='1"), {
          grant: undefined,
          user: undefined,
        });
      });

      it('follows revocation, expiry, role changes, disabling and removal', async () => {
        await s.createUser(carol);
        await s.upsert('Grant', 'g1', grant, 60);
        await s.updateUser('usr_c', { role: 'admin', disabledAt: T0 + 1 });
        assert.deepEqual((await s.findGrantAndUser('g1', 'usr_c')).user, {
          ...carolSeen,
          role: 'admin',
          disabledAt: T0 + 1,
        });
        clock.advance(61_000);
        assert.equal((await s.findGrantAndUser('g1', 'usr_c')).grant, undefined, 'expired');
        await s.upsert('Grant', 'g2', { ...grant, exp: undefined }, undefined);
        assert.ok((await s.findGrantAndUser('g2', 'usr_c')).grant);
        await s.destroy('Grant', 'g2');
        assert.equal((await s.findGrantAndUser('g2', 'usr_c')).grant, undefined, 'revoked');
        await s.deleteUser('usr_c');
        assert.equal((await s.findGrantAndUser('g2', 'usr_c')).user, undefined, 'removed');
      });
    });

    describe('AuditStore', () => {
      const record = (n: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
        id: `aud_${String(n).padStart(4, '0')}`,
        at: T0 + n * 1000,
        type: 'signin.succeeded',
        outcome: 'success',
        actor: { kind: 'user', id: 'usr_a' },
        userId: 'usr_a',
        details: {},
        ...over,
      });

      it('appends and lists newest first, every field round-tripping', async () => {
        const full = record(2, {
          type: 'grant.revoked',
          actor: { kind: 'admin', id: 'usr_root', name: 'root' },
          userId: 'usr_b',
          clientId: 'cl_1',
          grantId: 'gr_1',
          ip: '203.0.113.9',
          userAgent: 'Mozilla/5.0 (日本語)',
          details: { by: 'admin', scopes: ['mcp:tools'], count: 2, nested: { ok: true } },
        });
        const minimal = record(1, { actor: { kind: 'system' }, userId: undefined });
        delete (minimal as { userId?: string }).userId;
        await s.appendAudit(minimal);
        await s.appendAudit(full);
        assert.deepEqual(await s.listAudit(), [full, minimal]);
        await assert.rejects(s.appendAudit(full), 'an id is recorded once');
      });

      it('filters by user (subject or actor), client, types and time; limits', async () => {
        await s.appendAudit(record(1));
        await s.appendAudit(record(2, { type: 'signin.failed', outcome: 'failure' }));
        await s.appendAudit(
          record(3, {
            userId: 'usr_b',
            actor: { kind: 'user', id: 'usr_b' },
            clientId: 'cl_1',
            type: 'consent.granted',
          }),
        );
        await s.appendAudit(
          record(4, { userId: 'usr_b', actor: { kind: 'admin', id: 'usr_a' }, type: 'user.role_changed' }),
        );
        await s.appendAudit(
          record(5, { userId: 'usr_c', actor: { kind: 'cli', name: 'ops' }, type: 'user.created' }),
        );
        const ids = (rows: AuditRecord[]) => rows.map((r) => r.id);
        assert.deepEqual(ids(await s.listAudit({ userId: 'usr_a' })), ['aud_0004', 'aud_0002', 'aud_0001']);
        assert.deepEqual(ids(await s.listAudit({ userId: 'usr_b' })), ['aud_0004', 'aud_0003']);
        assert.deepEqual(ids(await s.listAudit({ clientId: 'cl_1' })), ['aud_0003']);
        assert.deepEqual(ids(await s.listAudit({ types: ['signin.failed', 'user.created'] })), [
          'aud_0005',
          'aud_0002',
        ]);
        assert.deepEqual(ids(await s.listAudit({ since: T0 + 2000, until: T0 + 4000 })), [
          'aud_0003',
          'aud_0002',
        ]);
        assert.deepEqual(ids(await s.listAudit({ limit: 2 })), ['aud_0005', 'aud_0004']);
        assert.deepEqual(ids(await s.listAudit({ userId: 'usr_b', types: ['consent.granted'] })), [
          'aud_0003',
        ]);
        assert.deepEqual(await s.listAudit({ userId: 'nobody' }), []);
        assert.deepEqual(
          ids(await s.listAudit({ userId: "x' OR '1'='1" })),
          [],
          'filter values are parameters, never SQL',
        );
      });

      it('orders records of the same millisecond by id; prunes by age', async () => {
        await s.appendAudit(record(1, { id: 'aud_b', at: T0 }));
        await s.appendAudit(record(1, { id: 'aud_a', at: T0 }));
        await s.appendAudit(record(1, { id: 'aud_c', at: T0 + 10 }));
        assert.deepEqual(
          (await s.listAudit()).map((r) => r.id),
          ['aud_c', 'aud_b', 'aud_a'],
        );
        assert.equal(await s.pruneAudit(T0 + 10), 2);
        assert.deepEqual(
          (await s.listAudit()).map((r) => r.id),
          ['aud_c'],
        );
        assert.equal(await s.pruneAudit(T0), 0);
      });
    });

    describe('ExternalIdentityStore', () => {
      const user = (id: string, username: string): UserRecord => ({
        id,
        username,
        name: username,
        email: `${username}@example.com`,
        role: 'user',
        passwordHash: '!',
        createdAt: T0,
      });
      const GOOGLE = 'https://accounts.google.com';
      const OKTA = 'https://acme.okta.com';

      it('links (issuer, subject) to a user and finds it by that pair only', async () => {
        await s.createUser(user('usr_a', 'alice'));
        await s.linkExternalIdentity({
          issuer: GOOGLE,
          subject: '1234',
          userId: 'usr_a',
          claims: { email: 'alice@example.com', groups: ['staff'] },
        });
        assert.deepEqual(await s.findExternalIdentity(GOOGLE, '1234'), {
          issuer: GOOGLE,
          subject: '1234',
          userId: 'usr_a',
          claims: { email: 'alice@example.com', groups: ['staff'] },
          createdAt: T0,
          lastLoginAt: T0,
        });
        assert.equal(await s.findExternalIdentity(OKTA, '1234'), undefined, 'subjects are per issuer');
        assert.equal(await s.findExternalIdentity(GOOGLE, '12345'), undefined);
        assert.equal(
          await s.findExternalIdentity(`${GOOGLE}/`, '1234'),
          undefined,
          'issuer compared exactly',
        );
      });

      it('linking the same pair to the same user again records a sign-in (claims replaced, time moved)', async () => {
        await s.createUser(user('usr_a', 'alice'));
        await s.linkExternalIdentity({
          issuer: GOOGLE,
          subject: 's',
          userId: 'usr_a',
          claims: { groups: ['a'] },
        });
        clock.advance(60_000);
        await s.linkExternalIdentity({
          issuer: GOOGLE,
          subject: 's',
          userId: 'usr_a',
          claims: { groups: [] },
        });
        const row = await s.findExternalIdentity(GOOGLE, 's');
        assert.deepEqual(row?.claims, { groups: [] });
        assert.equal(row?.createdAt, T0);
        assert.equal(row?.lastLoginAt, T0 + 60_000);
      });

      it('refuses to move a linked pair to another user, or to link a user that does not exist', async () => {
        await s.createUser(user('usr_a', 'alice'));
        await s.createUser(user('usr_b', 'bob'));
        await s.linkExternalIdentity({ issuer: GOOGLE, subject: 's', userId: 'usr_a' });
        await assert.rejects(
          s.linkExternalIdentity({ issuer: GOOGLE, subject: 's', userId: 'usr_b', claims: { x: 1 } }),
          (e: unknown) => e instanceof DuplicateError && e.field === 'external_identity',
        );
        const row = await s.findExternalIdentity(GOOGLE, 's');
        assert.equal(row?.userId, 'usr_a', 'the refused link changed nothing');
        assert.deepEqual(row?.claims, {});
        await assert.rejects(
          s.linkExternalIdentity({ issuer: OKTA, subject: 's', userId: 'usr_missing' }),
          (e: unknown) => e instanceof DuplicateError && e.field === 'user',
        );
        assert.equal(await s.findExternalIdentity(OKTA, 's'), undefined);
      });

      it('concurrent first links of one pair to two users: exactly one wins', async () => {
        await s.createUser(user('usr_a', 'alice'));
        await s.createUser(user('usr_b', 'bob'));
        const results = await Promise.allSettled(
          ['usr_a', 'usr_b', 'usr_a', 'usr_b'].map((userId) =>
            s.linkExternalIdentity({ issuer: OKTA, subject: 'race', userId }),
          ),
        );
        const winner = (await s.findExternalIdentity(OKTA, 'race'))?.userId;
        assert.ok(winner === 'usr_a' || winner === 'usr_b');
        for (const [i, r] of results.entries()) {
          const userId = i % 2 === 0 ? 'usr_a' : 'usr_b';
          assert.equal(r.status, userId === winner ? 'fulfilled' : 'rejected');
        }
      });

      it("lists a user's identities, unlinks one, and deleting the user deletes its links", async () => {
        await s.createUser(user('usr_a', 'alice'));
        await s.linkExternalIdentity({ issuer: GOOGLE, subject: 'g', userId: 'usr_a' });
        clock.advance(1);
        await s.linkExternalIdentity({ issuer: OKTA, subject: 'o', userId: 'usr_a' });
        assert.deepEqual(
          (await s.listExternalIdentities('usr_a')).map((r) => r.issuer),
          [GOOGLE, OKTA],
        );
        assert.deepEqual(await s.listExternalIdentities('usr_nobody'), []);
        assert.equal(await s.unlinkExternalIdentity(GOOGLE, 'g'), true);
        assert.equal(await s.unlinkExternalIdentity(GOOGLE, 'g'), false);
        assert.equal(await s.deleteUser('usr_a'), true);
        assert.equal(await s.findExternalIdentity(OKTA, 'o'), undefined);
        assert.deepEqual(await s.listExternalIdentities('usr_a'), []);
      });
    });

    describe('KeyStore', () => {
      const key = (kid: string, createdAt: number): SigningKeyRecord => ({
        kid,
        privateJwk: { kty: 'EC', crv: 'P-256', kid, x: 'x', y: 'y', d: 'd' },
        createdAt,
        rotatedAt: undefined,
      });

      it('rotation keeps the old key with rotatedAt set and lists the active key first', async () => {
        await s.addKey(key('k1', T0));
        assert.deepEqual(await s.listKeys(), [key('k1', T0)]);
        await s.rotateKeys(key('k2', T0 + 5), T0 + 5);
        const keys = await s.listKeys();
        assert.deepEqual(
          keys.map((k) => [k.kid, k.rotatedAt]),
          [
            ['k2', undefined],
            ['k1', T0 + 5],
          ],
        );
        assert.deepEqual(keys[1]?.privateJwk, key('k1', T0).privateJwk);
        await s.rotateKeys(key('k3', T0 + 10), T0 + 10);
        assert.deepEqual(
          (await s.listKeys()).map((k) => [k.kid, k.rotatedAt]),
          [
            ['k3', undefined],
            ['k2', T0 + 10],
            ['k1', T0 + 5],
          ],
        );
        assert.equal(await s.pruneKeys(T0 + 6), 1);
        assert.deepEqual(
          (await s.listKeys()).map((k) => k.kid),
          ['k3', 'k2'],
        );
      });

      it('ensureActiveKey adds a first key once; concurrent callers converge on one active key', async () => {
        const results = await Promise.all(
          ['e1', 'e2', 'e3', 'e4'].map((kid) => s.ensureActiveKey(key(kid, T0))),
        );
        assert.equal(results.filter(Boolean).length, 1, 'exactly one caller added its key');
        const keys = await s.listKeys();
        assert.equal(keys.length, 1);
        assert.equal(keys[0]?.rotatedAt, undefined);
        assert.equal(await s.ensureActiveKey(key('e5', T0)), false, 'an active key exists');
        await s.rotateKeys(key('e6', T0 + 1), T0 + 1);
        assert.equal(await s.ensureActiveKey(key('e7', T0 + 2)), false);
        assert.deepEqual(
          (await s.listKeys()).map((k) => k.kid),
          ['e6', keys[0]!.kid],
        );
      });

      it('a failed rotation changes nothing (duplicate kid)', async () => {
        await s.addKey(key('k1', T0));
        await assert.rejects(s.rotateKeys(key('k1', T0 + 1), T0 + 1), DuplicateError);
        assert.deepEqual(await s.listKeys(), [key('k1', T0)]);
      });
    });

    describe('RateLimitStore', () => {
      it('counts hits inside a fixed window and starts over in the next', async () => {
        assert.equal(await s.peek('login:u:alice', 900), 0);
        for (let i = 1; i <= 5; i++) assert.equal(await s.hit('login:u:alice', 900), i);
        assert.equal(await s.peek('login:u:alice', 900), 5);
        assert.equal(await s.hit('login:ip:1.2.3.4', 900), 1, 'keys are independent');
        clock.advance(899_999);
        assert.equal(await s.hit('login:u:alice', 900), 6);
        clock.advance(1);
        assert.equal(await s.peek('login:u:alice', 900), 0, 'new window');
        assert.equal(await s.hit('login:u:alice', 900), 1);
      });

      it('reset clears a key; concurrent hits each get a distinct count', async () => {
        await s.hit('k', 60);
        await s.reset('k');
        assert.equal(await s.peek('k', 60), 0);
        const counts = await Promise.all(Array.from({ length: 20 }, () => s.hit('k', 60)));
        assert.deepEqual(
          [...counts].sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
      });

      it('ended windows are gone after a sweep; live ones stay', async () => {
        await s.hit('a', 60);
        await s.hit('b', 3600);
        clock.advance(60_000);
        // A backend whose counters expire by themselves (Redis) has nothing to sweep: count ≥ 0.
        assert.ok((await s.sweep()) >= 0);
        assert.equal(await s.peek('a', 60), 0);
        assert.equal(await s.hit('a', 60), 1, 'the ended window starts over');
        assert.equal(await s.peek('b', 3600), 1);
      });
    });

    describe('lifecycle', () => {
      it('ping answers while open', async () => {
        await s.ping();
      });
    });
  });
}
