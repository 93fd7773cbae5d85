/** The registry's visible tool sets: by role for signed-in callers (computed once per role), all for anonymous. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMOUS, type Caller } from '../../src/access/policy.ts';
import { createToolRegistry } from '../../src/tools/registry.ts';

const user = (role: 'admin' | 'user', scopes: string[]): Caller => ({
  kind: 'user',
  userId: `u-${role}`,
  username: role,
  name: role,
  email: `${role}@example.com`,
  role,
  clientId: 'c',
  grantId: 'g',
  scopes: new Set(scopes),
  expiresAt: 0,
});

describe('tool registry visibility', () => {
  const registry = createToolRegistry({ demo: true });
  const names = (caller: Caller) => registry.visibleTo(caller).map((t) => t.name);

  it('follows the role, not the scopes (a missing scope still shows the tool, to step up)', () => {
    assert.ok(names(user('admin', ['mcp:tools'])).includes('admin_panel'));
    assert.ok(!names(user('user', ['mcp:tools', 'mcp:admin'])).includes('admin_panel'));
    assert.deepEqual(names(user('admin', [])), names(user('admin', ['mcp:tools', 'mcp:admin'])));
  });

  it('is one frozen list per role, and every tool for an anonymous caller', () => {
    const a = registry.visibleTo(user('user', ['mcp:tools']));
    assert.equal(registry.visibleTo(user('user', [])), a);
    assert.ok(Object.isFrozen(a));
    assert.notEqual(registry.visibleTo(user('admin', [])), a);
    assert.equal(registry.visibleTo(ANONYMOUS), registry.tools);
  });
});
