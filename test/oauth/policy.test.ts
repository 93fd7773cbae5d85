/** Unit checks of the AS policies: scope decisions, SSRF address classes, loopback matching, secrets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCimdPolicy, isSpecialUseAddress } from '../../src/oauth/cimd.ts';
import { clientSecretMatches, hashClientSecret } from '../../src/oauth/client-secret.ts';
import { loopbackWithoutPort } from '../../src/oauth/clients.ts';
import { createScopePolicy } from '../../src/oauth/scope-policy.ts';
import { deriveSecrets } from '../../src/oauth/secrets.ts';
import { createLogger } from '../../src/observability/logger.ts';

const policy = createScopePolicy({
  scopes: ['mcp:tools', 'mcp:data', 'mcp:admin'],
  basicScopes: ['mcp:tools', 'mcp:data'],
});

describe('scope policy', () => {
  it('adds the basic set only when no MCP scope is requested', () => {
    assert.equal(policy.withDefaults(undefined), 'mcp:tools mcp:data');
    assert.equal(policy.withDefaults('offline_access'), 'offline_access mcp:tools mcp:data');
    assert.equal(policy.withDefaults('mcp:admin'), 'mcp:admin');
  });

  it('downscopes by role, falls back to the basic set, keeps OpenID scopes', () => {
    assert.deepEqual(policy.decide('mcp:tools mcp:admin openid', 'user'), {
      granted: ['mcp:tools'],
      withheld: ['mcp:admin'],
      oidc: ['openid'],
      defaulted: false,
    });
    assert.deepEqual(policy.decide('mcp:admin', 'user'), {
      granted: ['mcp:tools', 'mcp:data'],
      withheld: ['mcp:admin'],
      oidc: [],
      defaulted: true,
    });
    assert.deepEqual(policy.decide('mcp:admin mcp:tools', 'admin').granted, ['mcp:admin', 'mcp:tools']);
    assert.ok(policy.supported.includes('offline_access'));
  });
});

describe('CIMD fetch policy', () => {
  it('classifies special-use addresses', () => {
    for (const a of [
      '10.1.2.3',
      '127.0.0.1',
      '169.254.169.254',
      '192.168.1.1',
      '172.20.0.1',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1', // the same, hex spelling
      '::ffff:a00:1', // 10.0.0.1
      // Added with issue 8 (RFC 6890 / IANA special-purpose registries):
      '::7f00:1', // IPv4-compatible ::/96
      '::a00:1',
      'fec0::1', // site-local
      '3fff::1', // documentation (RFC 9637)
      '5f00::1', // SRv6 SIDs
      '2620:4f:8000::1', // AS112-v6
      '100:0:0:1::1', // dummy prefix
      '2001:10::1', // ORCHID (inside 2001::/23)
      '192.31.196.1', // AS112-v4
      '192.175.48.1',
      '192.52.193.1', // AMT
      '255.255.255.255',
      'not-an-ip',
    ]) {
      assert.equal(isSpecialUseAddress(a), true, a);
    }
    for (const a of [
      '93.184.216.34',
      '8.8.8.8',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      '::ffff:808:808',
    ]) {
      assert.equal(isSpecialUseAddress(a), false, a);
    }
  });

  it('refuses hosts resolving to private addresses unless allow-listed', async () => {
    const resolved: Record<string, string[]> = {
      'public.example': ['93.184.216.34'],
      'sneaky.example': ['93.184.216.34', '10.0.0.1'],
    };
    const cimd = createCimdPolicy({
      allowHosts: ['127.0.0.1:8443'],
      logger: createLogger('silent'),
      resolve: async (h) => {
        const r = resolved[h];
        if (!r) throw new Error('ENOTFOUND');
        return r;
      },
    });
    assert.equal(await cimd.allowFetch(undefined, 'https://public.example/c.json'), true);
    assert.equal(await cimd.allowFetch(undefined, 'https://sneaky.example/c.json'), false);
    assert.equal(await cimd.allowFetch(undefined, 'https://nowhere.example/c.json'), false);
    assert.equal(await cimd.allowFetch(undefined, 'https://10.0.0.1/c.json'), false);
    assert.equal(await cimd.allowFetch(undefined, 'https://127.0.0.1:8443/c.json'), true);
    assert.equal(await cimd.allowFetch(undefined, 'https://127.0.0.1:9999/c.json'), false);
  });
});

describe('client policy helpers', () => {
  it('strips only the port of loopback http URIs', () => {
    assert.equal(loopbackWithoutPort('http://127.0.0.1:5555/cb?x=1'), 'http://127.0.0.1/cb?x=1');
    assert.equal(loopbackWithoutPort('http://[::1]:5555/cb'), 'http://[::1]/cb');
    assert.equal(loopbackWithoutPort('http://localhost:1/cb'), 'http://localhost/cb');
    assert.equal(loopbackWithoutPort('https://127.0.0.1:5555/cb'), undefined);
    assert.equal(loopbackWithoutPort('http://example.com:5555/cb'), undefined);
    assert.equal(loopbackWithoutPort('not a url'), undefined);
  });

  it('compares client secrets against their digest only', () => {
    const stored = hashClientSecret('s3cret');
    assert.match(stored, /^sha256:/);
    assert.equal(clientSecretMatches(stored, 's3cret'), true);
    assert.equal(clientSecretMatches(stored, 's3cret '), false);
    assert.equal(clientSecretMatches('s3cret', 's3cret'), false); // a clear value is never accepted
    assert.equal(clientSecretMatches(undefined, 's3cret'), false);
  });

  it('derives independent cookie and CSRF secrets that verify across key rotation', () => {
    const d1 = Buffer.alloc(32, 1).toString('base64url');
    const d2 = Buffer.alloc(32, 2).toString('base64url');
    const before = deriveSecrets({ keys: [{ d: d1 }] });
    const afterRotation = deriveSecrets({ keys: [{ d: d2 }, { d: d1 }] });
    assert.notEqual(before.cookieKeys[0], afterRotation.cookieKeys[0]);
    assert.equal(afterRotation.cookieKeys[1], before.cookieKeys[0]);
    const signed = before.sign('usr_1|123');
    assert.equal(afterRotation.unsign(signed), 'usr_1|123');
    assert.equal(afterRotation.unsign(`${signed}x`), undefined);
    const token = before.csrfToken('p', 'b');
    assert.equal(before.csrfValid('p', 'b', token), true);
    assert.equal(before.csrfValid('p', 'other', token), false);
    assert.equal(before.csrfValid('p', 'b', undefined), false);
  });
});
