/**
 * Resource-server-only mode, the whole server (SEKISHO_EXTERNAL_ISSUER) against a fake external
 * issuer: the built-in authorization server is gone (no /oauth routes, no discovery document, no
 * pages), PRM names the external issuer, and /mcp serves the same tools and challenges from the
 * external tokens. The official client's full flow against a real provider is in
 * test/e2e/resource-server-only.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { banner } from '../../../src/banner.ts';
import { runCli } from '../../../src/cli/run.ts';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { ExternalIssuerSetupError } from '../../../src/resource/external/errors.ts';
import { dpopProof, thumbprint } from '../../helpers/dpop.ts';
import { MODERN_VERSION, modernEnvelope, modernPost, rawPost } from '../../helpers/mcp-http.ts';
import { es256KeyPair } from '../../helpers/operator-clients.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { type FakeIssuer, startFakeIssuer } from './fake-issuer.ts';

let fake: FakeIssuer;
let srv: TestServer;

before(async () => {
  fake = await startFakeIssuer();
  srv = await startTestServer({
    SEKISHO_EXTERNAL_ISSUER: fake.issuer,
    SEKISHO_EXTERNAL_ROLE_CLAIM: 'groups',
    SEKISHO_EXTERNAL_ADMIN_VALUES: 'mcp-admins',
  });
});
after(async () => {
  await srv?.close();
  await fake?.close();
});

async function token(extra: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return fake.sign({
    iss: fake.issuer,
    aud: srv.mcpUrl,
    sub: 'ext-alice',
    client_id: 'ext-client',
    preferred_username: 'alice@corp',
    name: 'Alice External',
    scope: 'mcp:tools mcp:data',
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    ...extra,
  });
}

const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

describe('resource-server-only mode (fake issuer)', () => {
  it('publishes the external issuer in PRM and serves no authorization server of its own', async () => {
    const prm = await (await fetch(`${srv.url}/.well-known/oauth-protected-resource/mcp`)).json();
    assert.deepEqual(prm.authorization_servers, [fake.issuer]);
    assert.equal(prm.resource, srv.mcpUrl);
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
      '/oauth/authorize',
      '/oauth/token',
      '/oauth/register',
      '/oauth/jwks',
      '/account',
      '/device',
      '/interaction/abc',
    ]) {
      const res = await fetch(`${srv.url}${path}`, { redirect: 'manual' });
      assert.equal(res.status, 404, `${path} answered ${res.status}`);
    }
    const posted = await fetch(`${srv.url}/oauth/token`, { method: 'POST', body: 'grant_type=x' });
    assert.equal(posted.status, 404);
    assert.equal(srv.sekisho.authorizationServer, undefined);
  });

  it('serves tools to an external user with no local account, profile from the token', async () => {
    const res = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'user_profile', arguments: {} },
      bearer(await token()),
    );
    assert.equal(res.status, 200, res.text);
    const result = res.body?.result as { structuredContent?: Record<string, unknown> };
    assert.deepEqual(result.structuredContent, {
      id: 'ext-alice',
      username: 'alice@corp',
      name: 'Alice External',
      email: '',
      role: 'user',
    });
    assert.equal(await srv.sekisho.identity.findById('ext-alice'), undefined, 'no local account is created');
  });

  it('answers 401 for a wrong issuer or audience, 403 step-up for a missing scope', async () => {
    const wrongAud = await modernPost(
      srv.mcpUrl,
      'tools/list',
      {},
      bearer(await token({ aud: 'https://x.example/mcp' })),
    );
    assert.equal(wrongAud.status, 401);
    assert.match(wrongAud.headers.get('www-authenticate') ?? '', /invalid_token/);
    const wrongIss = await modernPost(
      srv.mcpUrl,
      'tools/list',
      {},
      bearer(await token({ iss: 'https://evil.example' })),
    );
    assert.equal(wrongIss.status, 401);
    const narrow = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'protected_data', arguments: {} },
      bearer(await token({ scope: 'mcp:tools' })),
    );
    assert.equal(narrow.status, 403);
    const challenge = narrow.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /insufficient_scope/);
    assert.match(
      challenge,
      new RegExp(`resource_metadata="${srv.url}/.well-known/oauth-protected-resource/mcp"`),
    );
  });

  it('maps the group claim to the admin role, and admin_panel points at the external server', async () => {
    const admin = await token({ groups: ['mcp-admins'], scope: 'mcp:tools mcp:admin' });
    const res = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'admin_panel', arguments: { action: 'list_tokens' } },
      bearer(admin),
    );
    assert.equal(res.status, 200, res.text);
    const result = res.body?.result as { isError?: boolean; content: { text: string }[] };
    assert.equal(result.isError, true);
    assert.match(result.content[0]!.text, /managed by the authorization server/);
    const plain = await token({ scope: 'mcp:tools mcp:admin' });
    const list = await modernPost(srv.mcpUrl, 'tools/list', {}, bearer(plain));
    const tools = (list.body?.result as { tools?: { name: string }[] } | undefined)?.tools ?? [];
    const names = tools.map((t) => t.name);
    assert.ok(!names.includes('admin_panel'), 'a user without the admin group does not see admin tools');
  });

  it('honours a DPoP binding (cnf.jkt) of an external token with the existing proof check', async () => {
    const key = await es256KeyPair();
    const bound = await token({ cnf: { jkt: await thumbprint(key) } });
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'auth_status', arguments: {}, _meta: modernEnvelope() },
    });
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': 'tools/call',
      'mcp-name': 'auth_status',
    };
    const asBearer = await rawPost(srv.mcpUrl, body, { ...headers, authorization: `Bearer ${bound}` });
    assert.equal(asBearer.status, 401);
    assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP .*DPoP-bound/);
    const proof = await dpopProof(key, { htm: 'POST', htu: srv.mcpUrl, accessToken: bound, body });
    const ok = await rawPost(srv.mcpUrl, body, { ...headers, authorization: `DPoP ${bound}`, dpop: proof });
    assert.equal(ok.status, 200, ok.text);
    const other = await es256KeyPair();
    const wrongKey = await dpopProof(other, { htm: 'POST', htu: srv.mcpUrl, accessToken: bound, body });
    const refused = await rawPost(srv.mcpUrl, body, {
      ...headers,
      authorization: `DPoP ${bound}`,
      dpop: wrongKey,
    });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_dpop_proof/);
  });

  it('the start-up banner names the external issuer', () => {
    const text = banner(srv.config);
    assert.match(text, /resource-server-only mode/);
    assert.ok(text.includes(`Sign-in            at ${fake.issuer}`));
    assert.doesNotMatch(banner(loadConfig({})), /resource-server-only/);
  });

  it('shows the external issuer on the home page (JSON and HTML) and has no account link', async () => {
    const info = await (await fetch(`${srv.url}/`, { headers: { accept: 'application/json' } })).json();
    assert.equal(info.authorization.issuer, fake.issuer);
    assert.equal(info.authorization.endpoints.authorization_endpoint, `${fake.url}/authorize`);
    assert.equal(info.account, undefined);
    for (const lang of ['en', 'ja']) {
      const html = await (
        await fetch(`${srv.url}/?lang=${lang}`, { headers: { accept: 'text/html' } })
      ).text();
      assert.ok(html.includes(fake.issuer), `${lang} page names the issuer`);
      assert.ok(!html.includes('/account'), `${lang} page has no account link`);
    }
  });

  it('oauth_info lists the external server’s endpoints, none of Sekisho’s own', async () => {
    const res = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'oauth_info', arguments: {} },
      bearer(await token()),
    );
    const result = res.body?.result as
      | { structuredContent?: { endpoints: Record<string, string> } }
      | undefined;
    const endpoints = result?.structuredContent?.endpoints;
    assert.equal(endpoints?.issuer, fake.issuer);
    assert.equal(endpoints?.token, `${fake.url}/token`);
    assert.equal(endpoints?.resource, srv.mcpUrl);
    assert.ok(!Object.values(endpoints ?? {}).some((u) => u.startsWith(`${srv.url}/oauth`)));
  });

  it('CLI: clients, grants, keys and identity-link commands refuse with a clear message', async () => {
    const env = { SEKISHO_DATA_DIR: srv.dataDir, SEKISHO_EXTERNAL_ISSUER: fake.issuer };
    for (const argv of [
      ['clients', 'list'],
      ['clients', 'add', 'bot', '--role', 'user'],
      ['grants', 'list'],
      ['keys', 'rotate'],
      ['users', 'link', 'someone', '--issuer', 'https://idp.example', '--subject', 's'],
    ]) {
      const lines: string[] = [];
      const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
      const code = await runCli(argv, { env, io });
      assert.equal(code, 2, `${argv.join(' ')}: ${lines.join('\n')}`);
      assert.match(
        lines.join('\n'),
        new RegExp(
          `${argv.slice(0, 2).join(' ')}: the built-in authorization server is off \\(SEKISHO_EXTERNAL_ISSUER=`,
        ),
      );
    }
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    assert.equal(await runCli(['users', 'list'], { env, io }), 0, 'local-account commands still work');
  });

  it('answers hostile tokens with 401 or 400, never 5xx, and does not hammer the issuer', async () => {
    const jwksBefore = fake.counts.jwks;
    const { signingKey } = await import('./fake-issuer.ts');
    const stranger = await signingKey('made-up');
    const valid = await token();
    const [header, payload] = valid.split('.');
    const hostile = [
      'x',
      'a'.repeat(9_000),
      `${header}.${payload}.`,
      `${header}.${payload}.AAAA`,
      `${valid}.extra.parts`,
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      `${Buffer.from('{"alg":"RS256","kid":"../../etc/passwd"}').toString('base64url')}.${payload}.AAAA`,
      await fake.sign({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()) }, { key: stranger }),
      await token({ scope: { nested: true } }),
      await token({ sub: 'x'.repeat(600) }),
      await token({ groups: Array.from({ length: 300 }, (_, i) => `g${i}`) }),
    ];
    for (const t of hostile) {
      const res = await modernPost(srv.mcpUrl, 'tools/list', {}, bearer(t));
      assert.ok(
        res.status === 401 || res.status === 400,
        `${res.status} for ${t.slice(0, 40)}…: ${res.text}`,
      );
    }
    assert.ok(fake.counts.jwks - jwksBefore <= 1, `key set fetched ${fake.counts.jwks - jwksBefore} times`);
  });
});

describe('resource-server-only mode: the external server failing', () => {
  it('answers 503 with Retry-After, not 401, while the key set cannot be read; then recovers', async () => {
    const failing = await startFakeIssuer();
    failing.failWith = 500; // metadata answers, the key set does not
    const rs = await startTestServer({ SEKISHO_EXTERNAL_ISSUER: failing.issuer });
    try {
      const now = Math.floor(Date.now() / 1000);
      const t = await failing.sign({
        iss: failing.issuer,
        aud: rs.mcpUrl,
        sub: 's',
        client_id: 'c',
        exp: now + 300,
      });
      const res = await modernPost(rs.mcpUrl, 'tools/list', {}, bearer(t));
      assert.equal(res.status, 503, res.text);
      assert.ok(res.headers.get('retry-after'));
      failing.failWith = undefined;
      const again = await modernPost(rs.mcpUrl, 'tools/list', {}, bearer(t));
      assert.equal(again.status, 200, again.text);
    } finally {
      await rs.close();
      await failing.close();
    }
  });
});

describe('resource-server-only mode: start-up and settings', () => {
  it('refuses to start when the issuer cannot be reached, in one line naming the key', async () => {
    await assert.rejects(
      startTestServer({
        SEKISHO_EXTERNAL_ISSUER: 'http://127.0.0.1:9',
        SEKISHO_EXTERNAL_STARTUP_TIMEOUT_SECONDS: '0',
      }),
      (e: unknown) =>
        e instanceof ExternalIssuerSetupError && /^SEKISHO_EXTERNAL_ISSUER: cannot reach/.test(e.message),
    );
  });

  it('refuses to start when the metadata names another issuer or lacks a key set', async () => {
    const odd = await startFakeIssuer();
    try {
      odd.metadata = { issuer: 'https://someone-else.example' };
      await assert.rejects(
        startTestServer({ SEKISHO_EXTERNAL_ISSUER: odd.issuer }),
        (e: unknown) => e instanceof ExternalIssuerSetupError && /must match it exactly/.test(e.message),
      );
      odd.metadata = { jwks_uri: undefined };
      await assert.rejects(
        startTestServer({ SEKISHO_EXTERNAL_ISSUER: odd.issuer }),
        (e: unknown) => e instanceof ExternalIssuerSetupError && /has no jwks_uri/.test(e.message),
      );
    } finally {
      await odd.close();
    }
  });

  it('rejects bad settings naming the key', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.problems;
      }
    };
    const iss = 'https://idp.example.com';
    assert.match(
      problems({ SEKISHO_EXTERNAL_ISSUER: 'http://idp.example.com' }).join(),
      /SEKISHO_EXTERNAL_ISSUER: must use https/,
    );
    assert.match(problems({ SEKISHO_EXTERNAL_ISSUER: 'not a url' }).join(), /SEKISHO_EXTERNAL_ISSUER/);
    assert.match(
      problems({ SEKISHO_EXTERNAL_ROLE_CLAIM: 'groups' }).join(),
      /SEKISHO_EXTERNAL_ROLE_CLAIM: needs SEKISHO_EXTERNAL_ISSUER/,
    );
    assert.match(
      problems({ SEKISHO_EXTERNAL_ISSUER: iss, SEKISHO_EXTERNAL_TOKEN_VERIFICATION: 'introspection' }).join(),
      /SEKISHO_EXTERNAL_TOKEN_VERIFICATION: introspection needs/,
    );
    assert.match(
      problems({ SEKISHO_EXTERNAL_ISSUER: iss, SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: 'x' }).join(),
      /SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET: needed/,
    );
    assert.match(
      problems({ SEKISHO_EXTERNAL_ISSUER: iss, SEKISHO_EXTERNAL_ADMIN_VALUES: 'a' }).join(),
      /SEKISHO_EXTERNAL_ADMIN_VALUES: needs/,
    );
    assert.match(
      problems({ SEKISHO_EXTERNAL_ISSUER: iss, SEKISHO_EXTERNAL_ALGORITHMS: 'HS256' }).join(),
      /SEKISHO_EXTERNAL_ALGORITHMS/,
    );
    assert.match(
      problems({ SEKISHO_EXTERNAL_ISSUER: iss, SEKISHO_EXTERNAL_CLOCK_SKEW_SECONDS: '3600' }).join(),
      /SEKISHO_EXTERNAL_CLOCK_SKEW_SECONDS/,
    );
    assert.match(
      problems({ SEKISHO_EXTERNAL_ISSUER: iss, SEKISHO_DEMO: '1' }).join(),
      /SEKISHO_DEMO: demo mode needs/,
    );
    assert.deepEqual(problems({ SEKISHO_EXTERNAL_ISSUER: iss }), []);
    assert.deepEqual(problems({ SEKISHO_EXTERNAL_ISSUER: 'http://localhost:8080/realms/x' }), []);
  });
});
