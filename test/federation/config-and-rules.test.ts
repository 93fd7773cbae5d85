/**
 * Upstream provider settings (presets, bad values named by key) and the role-mapping rules, as pure
 * functions: the integration tests prove the wiring, these prove every rule and refusal.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { banner } from '../../src/banner.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import type { UpstreamProvider } from '../../src/config/upstreams.ts';
import { judge, profileFrom } from '../../src/federation/role-mapping.ts';

const BASE = { SEKISHO_DATA_DIR: '/tmp/unused', PORT: '0' };
const ONE = {
  ...BASE,
  SEKISHO_UPSTREAM_ISSUER: 'https://sso.acme.example/realms/acme',
  SEKISHO_UPSTREAM_CLIENT_ID: 'sekisho',
  SEKISHO_UPSTREAM_CLIENT_SECRET: 's3cret',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('upstream provider settings', () => {
  it('one provider from the environment, its preset guessed from the issuer', () => {
    const config = loadConfig(ONE);
    assert.equal(config.localLogin, true);
    assert.equal(config.upstreams.length, 1);
    const p = config.upstreams[0]!;
    assert.equal(p.preset, 'keycloak');
    assert.equal(p.id, 'keycloak');
    assert.equal(p.name, 'Keycloak');
    assert.deepEqual(p.scopes, ['openid', 'email', 'profile']);
    assert.deepEqual(p.groupClaims, ['groups', 'realm_access.roles']);
    assert.equal(p.rules.defaultRole, 'user');
    assert.deepEqual(p.rules.adminGroups, ['sekisho-admins'], 'the conventional admin group');
  });

  it('takes name, scopes and rules from the environment', () => {
    const p = loadConfig({
      ...ONE,
      SEKISHO_UPSTREAM_NAME: 'Acme SSO',
      SEKISHO_UPSTREAM_SCOPES: 'openid email groups',
      SEKISHO_UPSTREAM_ADMIN_GROUPS: 'ops, platform',
      SEKISHO_UPSTREAM_ALLOWED_DOMAINS: '@Acme.example',
      SEKISHO_UPSTREAM_DEFAULT_ROLE: 'none',
      SEKISHO_UPSTREAM_GROUPS_CLAIM: 'roles',
    }).upstreams[0]!;
    assert.equal(p.name, 'Acme SSO');
    assert.deepEqual(p.scopes, ['openid', 'email', 'groups']);
    assert.deepEqual(p.rules.adminGroups, ['ops', 'platform']);
    assert.deepEqual(p.rules.allowedDomains, ['acme.example']);
    assert.equal(p.rules.defaultRole, 'none');
    assert.deepEqual(p.groupClaims, ['roles']);
  });

  it('several providers from the config file, as a JSON array', () => {
    const file = join(tmpdir(), `sekisho-upstreams-${process.pid}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        SEKISHO_UPSTREAMS: [
          {
            issuer: 'https://accounts.google.com',
            clientId: 'g',
            clientSecret: 'gs',
            allowedDomains: ['acme.example'],
          },
          {
            issuer: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
            clientId: 'm',
            clientSecret: 'ms',
            adminGroups: ['Sekisho.Admin'],
          },
          { issuer: 'https://acme.okta.com/oauth2/default', clientId: 'o', clientSecret: 'os', name: 'Acme' },
        ],
      }),
    );
    const config = loadConfig({ ...BASE, SEKISHO_CONFIG_FILE: file });
    assert.deepEqual(
      config.upstreams.map((p) => [p.id, p.preset, p.name]),
      [
        ['google', 'google', 'Google'],
        ['entra', 'entra', 'Microsoft'],
        ['okta', 'okta', 'Acme'],
      ],
    );
    assert.deepEqual(config.upstreams[2]!.scopes, ['openid', 'email', 'profile', 'groups']);
    assert.deepEqual(
      config.upstreams.map((p) => p.rules.adminGroups),
      [[], ['Sekisho.Admin'], ['sekisho-admins']],
      'Google has no groups; Entra uses an app role',
    );
  });

  it('names the key of every bad value', () => {
    assert.deepEqual(problems({ ...BASE, SEKISHO_UPSTREAM_ISSUER: 'https://x.example' }), [
      'SEKISHO_UPSTREAM_CLIENT_ID: is required when any SEKISHO_UPSTREAM_* is set',
      'SEKISHO_UPSTREAM_CLIENT_SECRET: is required when any SEKISHO_UPSTREAM_* is set',
    ]);
    assert.match(
      problems({ ...ONE, SEKISHO_UPSTREAM_ISSUER: 'http://sso.acme.example' })[0]!,
      /^SEKISHO_UPSTREAM_ISSUER: must use https/,
    );
    assert.match(
      problems({ ...ONE, SEKISHO_UPSTREAM_ISSUER: 'not a url' })[0]!,
      /^SEKISHO_UPSTREAM_ISSUER: must be an absolute https URL/,
    );
    assert.match(problems({ ...ONE, SEKISHO_UPSTREAM_ISSUER: 'https://x.example/?a=1' })[0]!, /query/);
    assert.match(
      problems({ ...ONE, SEKISHO_UPSTREAM_ISSUER: 'https://login.microsoftonline.com/common/v2.0' })[0]!,
      /common endpoint has no single issuer/,
    );
    assert.match(
      problems({ ...ONE, SEKISHO_UPSTREAM_PRESET: 'google' })[0]!,
      /does not look like a Google issuer/,
    );
    assert.match(problems({ ...ONE, SEKISHO_UPSTREAM_PRESET: 'github' })[0]!, /^SEKISHO_UPSTREAM\.preset: /);
    assert.match(
      problems({ ...ONE, SEKISHO_UPSTREAM_DEFAULT_ROLE: 'root' })[0]!,
      /defaultRole: must be admin, user or none/,
    );
    assert.match(problems({ ...ONE, SEKISHO_UPSTREAM_SCOPES: 'email profile' })[0]!, /must include openid/);
    assert.deepEqual(problems({ ...BASE, SEKISHO_UPSTREAMS: '{"issuer":1}' }), [
      'SEKISHO_UPSTREAMS: must be a JSON array of providers',
    ]);
    assert.deepEqual(problems({ ...BASE, SEKISHO_UPSTREAMS: '[oops' }), [
      'SEKISHO_UPSTREAMS: must be a JSON array of providers',
    ]);
    assert.match(
      problems({ ...BASE, SEKISHO_UPSTREAMS: '[{"issuer":"https://a.example","clientId":"a"}]' })[0]!,
      /^SEKISHO_UPSTREAMS\[0\]\.clientSecret: /,
    );
    assert.match(
      problems({
        ...BASE,
        SEKISHO_UPSTREAMS: '[{"issuer":"https://a.example","clientId":"a","clientSecret":"b","extra":1}]',
      })[0]!,
      /^SEKISHO_UPSTREAMS\[0\]: /,
    );
    const twice = JSON.stringify([
      { issuer: 'https://a.example', clientId: 'a', clientSecret: 'b' },
      { issuer: 'https://a.example', clientId: 'c', clientSecret: 'd' },
    ]);
    assert.ok(problems({ ...BASE, SEKISHO_UPSTREAMS: twice }).some((p) => /configured twice/.test(p)));
  });

  it('SEKISHO_LOCAL_LOGIN=0 needs a provider; a loopback http issuer is fine for development', () => {
    assert.match(
      problems({ ...BASE, SEKISHO_LOCAL_LOGIN: '0' })[0]!,
      /^SEKISHO_LOCAL_LOGIN: is 0 but no upstream provider/,
    );
    const config = loadConfig({
      ...ONE,
      SEKISHO_UPSTREAM_ISSUER: 'http://127.0.0.1:9999',
      SEKISHO_LOCAL_LOGIN: '0',
    });
    assert.equal(config.localLogin, false);
    assert.equal(config.upstreams[0]!.id, '127-0-0-1');
  });

  it('refuses upstream sign-in in resource-server-only mode (there is no login page to show it on)', () => {
    assert.ok(
      problems({ ...ONE, SEKISHO_EXTERNAL_ISSUER: 'https://as.example' }).some((p) =>
        /SEKISHO_EXTERNAL_ISSUER turns off/.test(p),
      ),
    );
  });

  it('the banner names the providers and the redirect URI to register, never the secret', () => {
    const text = banner(
      loadConfig({ ...ONE, SEKISHO_BASE_URL: 'https://mcp.acme.example', SEKISHO_UPSTREAM_NAME: 'Acme SSO' }),
    );
    assert.match(text, /"Sign in with Acme SSO" and passwords/);
    assert.match(
      text,
      /redirect URI to register at each provider: https:\/\/mcp\.acme\.example\/upstream\/callback/,
    );
    assert.doesNotMatch(text, /s3cret/);
    const only = banner(loadConfig({ ...ONE, SEKISHO_LOCAL_LOGIN: '0', SEKISHO_DEMO: '1' }));
    assert.match(only, /only \(passwords off\)/);
    assert.doesNotMatch(only, /demo123/, 'no demo passwords when nobody can use them');
  });

  it('the secret never appears in a problem message', () => {
    const all = problems({ ...ONE, SEKISHO_UPSTREAM_ISSUER: 'http://sso.acme.example' }).join('\n');
    assert.doesNotMatch(all, /s3cret/);
  });
});

describe('role mapping', () => {
  const provider = (rules: Partial<UpstreamProvider['rules']>, groupClaims = ['groups']) =>
    ({
      groupClaims,
      emailVerifiedClaim: 'email_verified',
      rules: { adminGroups: [], userGroups: [], allowedDomains: [], defaultRole: 'user', ...rules },
    }) as unknown as UpstreamProvider;
  const verdict = (
    claims: Record<string, unknown>,
    rules: Partial<UpstreamProvider['rules']>,
    claimsPaths?: string[],
  ) => {
    const p = provider(rules, claimsPaths);
    return judge(profileFrom({ sub: 's', ...claims }, p), p.rules);
  };

  it('admin group beats user group beats the default role', () => {
    const rules = { adminGroups: ['ops'], userGroups: ['staff'], defaultRole: 'none' as const };
    assert.deepEqual(verdict({ groups: ['staff', 'ops'] }, rules), {
      admitted: true,
      role: 'admin',
      because: 'member of ops',
    });
    assert.deepEqual(verdict({ groups: ['staff'] }, rules), {
      admitted: true,
      role: 'user',
      because: 'member of staff',
    });
    assert.equal(verdict({ groups: ['sales'] }, rules).admitted, false);
    assert.equal(verdict({}, rules).admitted, false);
    assert.deepEqual(
      verdict({ groups: 'ops' }, rules),
      { admitted: true, role: 'admin', because: 'member of ops' },
      'a single string counts',
    );
    assert.deepEqual(verdict({}, { defaultRole: 'user' }), {
      admitted: true,
      role: 'user',
      because: 'default role',
    });
  });

  it('reads nested and several group claims (Keycloak realm roles, Entra roles)', () => {
    const rules = { adminGroups: ['realm-admin'], defaultRole: 'none' as const };
    assert.equal(
      verdict({ realm_access: { roles: ['realm-admin'] } }, rules, ['groups', 'realm_access.roles']).admitted,
      true,
    );
    assert.equal(verdict({ realm_access: 'realm-admin' }, rules, ['realm_access.roles']).admitted, false);
    assert.equal(
      verdict({ 'https://sekisho/roles': ['realm-admin'] }, rules, ['https://sekisho/roles']).admitted,
      true,
    );
  });

  it('bounds what a claim can carry: at most 500 groups per claim, strings only', () => {
    const p = provider({});
    const many = Array.from({ length: 5_000 }, (_, n) => `g${n}`);
    const profile = profileFrom({ sub: 's', groups: [...many, 42, null, { a: 1 }, ''] }, p);
    assert.equal(profile.groups.length, 500);
    assert.ok(profile.groups.every((g) => typeof g === 'string' && g !== ''));
    assert.deepEqual(profileFrom({ sub: 's', groups: { admin: true } }, p).groups, []);
    assert.equal(profileFrom({ sub: 's', email: 'not-an-address' }, p).email, undefined);
  });

  it('the e-mail domain gate wants a verified address in an allowed domain, before any group', () => {
    const rules = { allowedDomains: ['acme.example'], adminGroups: ['ops'] };
    assert.equal(verdict({ email: 'a@acme.example', email_verified: true }, rules).admitted, true);
    assert.equal(verdict({ email: 'a@ACME.example', email_verified: 'true' }, rules).admitted, true);
    assert.match(
      verdict({ email: 'a@acme.example', email_verified: false, groups: ['ops'] }, rules).because,
      /verified/,
    );
    assert.match(verdict({ email: 'a@acme.example' }, rules).because, /verified/);
    assert.match(
      verdict({ email: 'a@evil.example', email_verified: true }, rules).because,
      /evil\.example is not allowed/,
    );
    assert.match(
      verdict({ email: 'a@acme.example.evil.example', email_verified: true }, rules).because,
      /not allowed/,
    );
    assert.equal(verdict({ email_verified: true }, rules).admitted, false);
  });
});
