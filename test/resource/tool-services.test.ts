import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createToolServices, type ToolServicesDeps } from '../../src/app-services/tool-services.ts';
import { NO_AUDIT } from '../../src/audit/audit.ts';
import type { User } from '../../src/identity/users.ts';
import type { ActingCaller, GrantSummary } from '../../src/tools/services.ts';

const admin: User = {
  id: 'u-admin',
  username: 'admin',
  name: 'Admin User',
  email: 'a@x',
  role: 'admin',
  createdAt: 0,
};
const demo: User = {
  id: 'u-demo',
  username: 'demo',
  name: 'Demo User',
  email: 'd@x',
  role: 'user',
  createdAt: 0,
};
const alice: User = {
  id: 'u-alice',
  username: 'alice',
  name: 'Alice',
  email: 'al@x',
  role: 'user',
  createdAt: 0,
};

function grant(grantId: string): GrantSummary {
  return {
    grantId,
    userId: 'u-demo',
    username: 'demo',
    clientId: 'c',
    clientName: 'C',
    scopes: ['mcp:tools'],
    createdAt: 0,
    expiresAt: undefined,
  };
}

function services(over: Partial<ToolServicesDeps> = {}) {
  const revoked: string[] = [];
  const issued: { accountId: string; scopes: readonly string[] }[] = [];
  const attemptsFrom: string[] = [];
  let grants = [grant('abcd1111'), grant('abcd2222'), grant('ffff0000')];
  const deps: ToolServicesDeps = {
    demo: true,
    demoUsers: [
      { ...admin, password: 'admin123' },
      { ...demo, password: 'demo123' },
    ],
    identity: {
      async authenticate(username, password, ip) {
        attemptsFrom.push(ip);
        const user = [admin, demo, alice].find((u) => u.username === username);
        return user && password === `${username}123` ? { ok: true, user } : { ok: false, reason: 'invalid' };
      },
      findById: async (id) => [admin, demo, alice].find((u) => u.id === id),
      listUsers: async () => [admin, demo, alice],
    },
    grants: {
      list: async () => grants,
      async revoke(id) {
        revoked.push(id);
        grants = grants.filter((g) => g.grantId !== id);
      },
    },
    audit: NO_AUDIT,
    countClients: async () => 2,
    clientIp: () => '192.0.2.7',
    endpoints: { issuer: 'http://localhost:1' },
    tokenUserId: async (token) => (token === 'valid-demo-token' ? 'u-demo' : undefined),
    async issueAccessToken(input) {
      issued.push(input);
      return { accessToken: 'at', expiresIn: 600, scope: input.scopes.join(' ') };
    },
    ...over,
  };
  return { s: createToolServices(deps), revoked, issued, attemptsFrom };
}

const ADMIN_CALLER: ActingCaller = {
  kind: 'user',
  userId: 'u-admin',
  username: 'admin',
  name: 'Admin',
  email: '',
  role: 'admin',
  scopes: new Set(['mcp:admin']),
  clientId: 'c',
  grantId: undefined,
  expiresAt: 0,
};

describe('tool services', () => {
  it('quick_login mints a token with every scope the role may hold, for demo accounts only', async () => {
    const { s, issued } = services();
    const result = await s.quickLogin('admin', 'admin123');
    assert.ok(result.ok);
    assert.equal(result.scope, 'mcp:tools mcp:data mcp:admin');
    assert.deepEqual(result.user, {
      id: 'u-admin',
      username: 'admin',
      name: 'Admin User',
      email: 'a@x',
      role: 'admin',
    });
    const demoLogin = await s.quickLogin('demo', 'demo123');
    assert.equal(demoLogin.ok && demoLogin.scope, 'mcp:tools mcp:data');
    assert.deepEqual(await s.quickLogin('demo', 'wrong'), { ok: false, reason: 'invalid' });
    assert.deepEqual(
      await s.quickLogin('alice', 'alice123'),
      { ok: false, reason: 'invalid' },
      'not a demo account',
    );
    assert.equal(issued.length, 2);
  });

  it('quick_login is throttled per client address, never under one key for every caller', async () => {
    const { s, attemptsFrom } = services();
    await s.quickLogin('demo', 'wrong');
    await s.quickLogin('admin', 'admin123');
    assert.deepEqual(attemptsFrom, ['192.0.2.7', '192.0.2.7']);
  });

  it('quick_login passes a throttled or busy answer on with its Retry-After', async () => {
    const { s } = services({
      identity: {
        authenticate: async () => ({ ok: false, reason: 'busy', retryAfterSeconds: 2 }),
        findById: async () => undefined,
        listUsers: async () => [],
      },
    });
    assert.deepEqual(await s.quickLogin('demo', 'demo123'), {
      ok: false,
      reason: 'busy',
      retryAfterSeconds: 2,
    });
  });

  it('quick_login and demoUsers are off outside demo mode', async () => {
    const { s } = services({ demo: false });
    assert.deepEqual(await s.quickLogin('admin', 'admin123'), { ok: false, reason: 'invalid' });
    assert.deepEqual(s.demoUsers(), []);
  });

  it('token_login names the user of a valid token, in demo mode only', async () => {
    assert.equal((await services().s.tokenUser('valid-demo-token'))?.username, 'demo');
    assert.equal(await services().s.tokenUser('other'), undefined);
    assert.equal(await services({ demo: false }).s.tokenUser('valid-demo-token'), undefined);
  });

  it('revokes by an unambiguous prefix of at least 4 characters', async () => {
    const { s, revoked } = services();
    assert.deepEqual(await s.revokeGrants('abc', ADMIN_CALLER), { revoked: [], ambiguous: true });
    assert.deepEqual(await s.revokeGrants('abcd', ADMIN_CALLER), { revoked: [], ambiguous: true });
    assert.deepEqual(await s.revokeGrants('zzzz', ADMIN_CALLER), { revoked: [], ambiguous: false });
    assert.deepEqual(await s.revokeGrants('abcd2', ADMIN_CALLER), {
      revoked: ['abcd2222'],
      ambiguous: false,
    });
    assert.deepEqual(revoked, ['abcd2222']);
  });

  it('counts users, admins, grants and clients', async () => {
    const { s } = services();
    assert.deepEqual(await s.userStats(), { users: 3, admins: 1, activeGrants: 3, clients: 2 });
  });
});
