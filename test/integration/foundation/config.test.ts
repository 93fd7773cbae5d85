/**
 * loadConfig: defaults, one canonical base URL (it becomes the OAuth issuer, so no slash or case
 * drift), errors that name the offending key, and the optional JSON config file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mcpResourceUrl } from '../../../src/config/config.ts';
import { ConfigError, loadConfig, normaliseBaseUrl, withBoundPort } from '../../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'sekisho-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The problems of the ConfigError that `fn` throws (fails the test if it throws anything else). */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 3000);
    assert.equal(c.baseUrl, 'http://localhost:3000');
    assert.equal(c.baseUrlFromPort, true);
    assert.equal(mcpResourceUrl(c), 'http://localhost:3000/mcp');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.dataDir, './data');
    assert.equal(c.demo, false);
    assert.equal(c.anonymous, false);
    assert.equal(c.maxBodyBytes, 1_048_576);
    assert.equal(c.shutdownGraceMs, 8_000);
    assert.equal(c.profile, 'default');
    for (const host of ['localhost', '127.0.0.1', '[::1]']) assert.ok(c.allowedHosts.includes(host), host);
    assert.ok(Object.isFrozen(c));
  });

  it('turns anonymous access on in demo mode unless SEKISHO_ANONYMOUS says otherwise', () => {
    assert.equal(loadConfig({ SEKISHO_DEMO: '1' }).anonymous, true);
    assert.equal(loadConfig({ SEKISHO_DEMO: 'true', SEKISHO_ANONYMOUS: 'off' }).anonymous, false);
    assert.equal(loadConfig({ SEKISHO_ANONYMOUS: 'yes' }).anonymous, true);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ PORT: '', SEKISHO_LOG_LEVEL: '' }).port, 3000);
  });

  it('derives the base URL from PORT and follows the bound port when PORT=0', () => {
    const c = loadConfig({ PORT: '0' });
    assert.equal(c.baseUrl, 'http://localhost:0');
    assert.equal(withBoundPort(c, 41234).baseUrl, 'http://localhost:41234');
    const fixed = loadConfig({ PORT: '0', SEKISHO_BASE_URL: 'https://mcp.example.com' });
    assert.equal(withBoundPort(fixed, 41234).baseUrl, 'https://mcp.example.com');
  });
});

describe('base URL normalisation', () => {
  const cases: [string, string][] = [
    ['https://mcp.example.com/', 'https://mcp.example.com'],
    ['https://MCP.Example.COM', 'https://mcp.example.com'],
    ['HTTPS://MCP.Example.COM:443/', 'https://mcp.example.com'],
    ['http://localhost:3000//', 'http://localhost:3000'],
    ['https://example.com/tenant/a/', 'https://example.com/tenant/a'],
    ['http://[::1]:8080/', 'http://[::1]:8080'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => {
      assert.equal(normaliseBaseUrl(input), expected);
      assert.equal(loadConfig({ SEKISHO_BASE_URL: input }).baseUrl, expected);
    });
  }

  it('adds the base URL host to the allowed Host and Origin names', () => {
    const c = loadConfig({ SEKISHO_BASE_URL: 'https://MCP.example.com/' });
    assert.ok(c.allowedHosts.includes('mcp.example.com'));
    assert.ok(c.allowedOrigins.includes('mcp.example.com'));
    assert.equal(c.baseUrlFromPort, false);
  });

  it('refuses a base URL with a query, a fragment, credentials or a non-http scheme', () => {
    for (const bad of [
      'https://x.example/?a=1',
      'https://x.example/#f',
      'https://u:p@x.example',
      'ftp://x.example',
    ]) {
      const problems = problemsOf(() => loadConfig({ SEKISHO_BASE_URL: bad }));
      assert.match(problems.join('\n'), /^SEKISHO_BASE_URL: /m, bad);
    }
    assert.match(
      problemsOf(() => loadConfig({ SEKISHO_BASE_URL: 'not a url' }))[0] ?? '',
      /^SEKISHO_BASE_URL: /,
    );
  });
});

describe('bad values name their key', () => {
  it('PORT=abc', () => {
    assert.deepEqual(
      problemsOf(() => loadConfig({ PORT: 'abc' })),
      ['PORT: must be a number'],
    );
  });

  it('PORT out of range or fractional', () => {
    assert.match(
      problemsOf(() => loadConfig({ PORT: '70000' }))[0] ?? '',
      /^PORT: must be between 0 and 65535/,
    );
    assert.match(problemsOf(() => loadConfig({ PORT: '80.5' }))[0] ?? '', /^PORT: must be a whole number/);
  });

  it('SEKISHO_DEMO=maybe', () => {
    assert.deepEqual(
      problemsOf(() => loadConfig({ SEKISHO_DEMO: 'maybe' })),
      ['SEKISHO_DEMO: must be one of 1/0, true/false, yes/no, on/off'],
    );
  });

  it('reports every bad key at once, and the message lists them', () => {
    try {
      loadConfig({ PORT: 'abc', SEKISHO_LOG_LEVEL: 'loud' });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 2);
      assert.match(error.message, /PORT: must be a number/);
      assert.match(error.message, /SEKISHO_LOG_LEVEL: must be one of fatal/);
    }
  });
});

describe('config file (SEKISHO_CONFIG_FILE)', () => {
  it('applies its keys; the environment wins over the file; arrays become lists', () => {
    const path = configFile(
      'ok.json',
      JSON.stringify({
        PORT: 4100,
        SEKISHO_LOG_LEVEL: 'warn',
        SEKISHO_ALLOWED_HOSTS: ['a.example', 'B.example'],
      }),
    );
    const c = loadConfig({ SEKISHO_CONFIG_FILE: path, SEKISHO_LOG_LEVEL: 'debug' });
    assert.equal(c.port, 4100);
    assert.equal(c.logLevel, 'debug');
    assert.ok(c.allowedHosts.includes('a.example'));
    assert.ok(c.allowedHosts.includes('b.example'));
  });

  it('validates file values like environment values', () => {
    const path = configFile('bad-port.json', JSON.stringify({ PORT: 'abc' }));
    assert.deepEqual(
      problemsOf(() => loadConfig({ SEKISHO_CONFIG_FILE: path })),
      ['PORT: must be a number'],
    );
  });

  it('refuses an unknown key, naming it', () => {
    const path = configFile('unknown.json', JSON.stringify({ PORT: 1, SEKISHO_NO_SUCH_KEY: 'x' }));
    assert.match(
      problemsOf(() => loadConfig({ SEKISHO_CONFIG_FILE: path }))[0] ?? '',
      /^SEKISHO_NO_SUCH_KEY: unknown key/,
    );
  });

  it('refuses a missing file, invalid JSON and a non-object', () => {
    const missing = problemsOf(() => loadConfig({ SEKISHO_CONFIG_FILE: join(dir, 'nope.json') }));
    assert.match(missing[0] ?? '', /^SEKISHO_CONFIG_FILE: cannot read .*\(ENOENT\)/);
    const broken = configFile('broken.json', '{ nope');
    assert.match(problemsOf(() => loadConfig({ SEKISHO_CONFIG_FILE: broken }))[0] ?? '', /is not valid JSON/);
    const list = configFile('list.json', '[1, 2]');
    assert.match(
      problemsOf(() => loadConfig({ SEKISHO_CONFIG_FILE: list }))[0] ?? '',
      /must hold a JSON object/,
    );
  });
});

describe('database settings', () => {
  it('no SEKISHO_DATABASE_URL keeps SQLite; a postgres URL selects PostgreSQL with its pool settings', () => {
    assert.equal(loadConfig({}).database, undefined);
    const c = loadConfig({
      SEKISHO_DATABASE_URL: 'postgresql://u:p@db.internal:6432/sekisho',
      SEKISHO_DATABASE_SCHEMA: 'sekisho_prod',
      SEKISHO_DATABASE_POOL_SIZE: '25',
      SEKISHO_DATABASE_STATEMENT_TIMEOUT_MS: '2000',
    });
    assert.deepEqual(c.database, {
      url: 'postgresql://u:p@db.internal:6432/sekisho',
      schema: 'sekisho_prod',
      poolSize: 25,
      statementTimeoutMs: 2000,
      connectTimeoutMs: 5000,
      startupTimeoutSeconds: 30,
    });
    assert.equal(loadConfig({ SEKISHO_DATABASE_URL: 'postgres://localhost/x' }).database?.poolSize, 10);
  });

  it('names the key for a bad URL, schema or pool size, and never echoes the URL', () => {
    for (const url of ['mysql://u:secret-pw@h/db', 'not a url', 'postgres://', 'http://u:secret-pw@h/db']) {
      const problems = problemsOf(() => loadConfig({ SEKISHO_DATABASE_URL: url }));
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, /^SEKISHO_DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
      assert.doesNotMatch(problems[0]!, /secret-pw/);
    }
    const base = { SEKISHO_DATABASE_URL: 'postgres://localhost/x' };
    assert.match(
      problemsOf(() => loadConfig({ ...base, SEKISHO_DATABASE_SCHEMA: 'x; DROP TABLE users' }))[0]!,
      /^SEKISHO_DATABASE_SCHEMA: must be a lower-case SQL identifier/,
    );
    assert.match(
      problemsOf(() => loadConfig({ ...base, SEKISHO_DATABASE_POOL_SIZE: '0' }))[0]!,
      /^SEKISHO_DATABASE_POOL_SIZE: must be at least 1/,
    );
    assert.match(
      problemsOf(() => loadConfig({ ...base, SEKISHO_DATABASE_STATEMENT_TIMEOUT_MS: 'soon' }))[0]!,
      /^SEKISHO_DATABASE_STATEMENT_TIMEOUT_MS: must be a number/,
    );
  });
});

describe('enterprise IdPs (SEKISHO_ENTERPRISE_IDPS)', () => {
  const idp = { issuer: 'https://acme.okta.com', jwks_uri: 'https://acme.okta.com/keys', clients: ['svc_a'] };

  it('reads JSON text from the environment and the array itself from the config file, with defaults', () => {
    const fromEnv = loadConfig({ SEKISHO_ENTERPRISE_IDPS: JSON.stringify([idp]) });
    assert.deepEqual(fromEnv.enterpriseIdps, [
      {
        issuer: idp.issuer,
        jwksUri: idp.jwks_uri,
        jwks: undefined,
        clients: ['svc_a'],
        users: 'linked',
        jitRole: 'user',
      },
    ]);
    const path = configFile(
      'idps.json',
      JSON.stringify({ SEKISHO_ENTERPRISE_IDPS: [{ ...idp, users: 'jit' }] }),
    );
    assert.equal(loadConfig({ SEKISHO_CONFIG_FILE: path }).enterpriseIdps[0]?.users, 'jit');
    assert.deepEqual(loadConfig({}).enterpriseIdps, []);
  });

  it('cannot be combined with an external issuer (no token endpoint to redeem them at)', () => {
    const problems = problemsOf(() =>
      loadConfig({
        SEKISHO_EXTERNAL_ISSUER: 'https://auth.example.com',
        SEKISHO_ENTERPRISE_IDPS: JSON.stringify([idp]),
      }),
    );
    assert.ok(
      problems.some((p) => /^SEKISHO_ENTERPRISE_IDPS: needs the built-in/.test(p)),
      problems.join('\n'),
    );
  });

  it('names the key for every bad entry', () => {
    const bad: unknown[] = [
      'not json',
      { issuer: idp.issuer },
      [{ ...idp, issuer: 'http://idp.example' }],
      [{ ...idp, jwks: { keys: [{ kty: 'EC' }] } }],
      [{ issuer: idp.issuer, clients: ['svc_a'] }],
      [{ ...idp, jwks_uri: undefined, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }],
      [{ ...idp, clients: [] }],
      [{ ...idp, users: 'email' }],
      [{ ...idp, extra: 1 }],
      [idp, idp],
    ];
    for (const value of bad) {
      const problems = problemsOf(() =>
        loadConfig({ SEKISHO_ENTERPRISE_IDPS: typeof value === 'string' ? value : JSON.stringify(value) }),
      );
      assert.ok(problems.length > 0, JSON.stringify(value));
      for (const p of problems) assert.match(p, /^SEKISHO_ENTERPRISE_IDPS/, JSON.stringify(value));
    }
  });
});
