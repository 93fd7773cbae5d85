/**
 * PostgreSQL going away under a running Sekisho, through a proxy the test can cut: /readyz says 503,
 * requests that need the database answer 503 with Retry-After (JSON-RPC on /mcp, OAuth JSON on the
 * token endpoint, a page for browsers) within the configured timeouts — never 500, never a hang —
 * and everything recovers by itself when the database is back.
 *
 * The /mcp gate holds the grant and user behind a token it has just seen (resource/grant-cache.ts), and
 * on PostgreSQL without Redis it trusts such an entry for UNANNOUNCED_MAX_AGE_MS: a tools/call inside
 * that second is answered from memory, as it would be with the database up. The test waits that bound
 * out, so the call must read the database — and get 503.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UNANNOUNCED_MAX_AGE_MS } from '../../src/cluster/gate-cache-freshness.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { freshSchema, postgresUnavailable, TEST_DATABASE_URL, type TestSchema } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { type TrustedTokens, trustTestKeys } from '../helpers/trusted-tokens.ts';

const skip = await postgresUnavailable();

describe('PostgreSQL outage', { skip }, () => {
  let proxy: TcpProxy;
  let schema: TestSchema;
  let srv: TestServer;
  let tokens: TrustedTokens;
  let token: string;

  before(async () => {
    const target = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    schema = await freshSchema();
    srv = await startTestServer({
      SEKISHO_DEMO: '1',
      SEKISHO_DATABASE_URL: proxy.url(target.pathname),
      SEKISHO_DATABASE_SCHEMA: schema.name,
      SEKISHO_DATABASE_POOL_SIZE: '3',
      SEKISHO_DATABASE_CONNECT_TIMEOUT_MS: '800',
      SEKISHO_DATABASE_STATEMENT_TIMEOUT_MS: '800',
    });
    tokens = await trustTestKeys(srv);
    token = await tokens.token('demo', 'mcp:tools');
  });
  after(async () => {
    await srv?.close();
    await proxy?.close();
    await schema?.drop();
  });

  const callTool = () =>
    modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'hello_world', arguments: { name: 'pg' } },
      { headers: { authorization: `Bearer ${token}` } },
    );
  const ready = async () => (await fetch(`${srv.url}/readyz`)).status;
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t = Date.now();
    const value = await fn();
    return [value, Date.now() - t];
  };

  it('serves while the database answers', async () => {
    assert.equal(await ready(), 200);
    const res = await callTool();
    assert.equal(res.status, 200);
  });

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`database ${mode === 'refuse' ? 'down (connections refused)' : 'unreachable (no answer)'}: 503 + Retry-After everywhere, bounded; then recovers`, async () => {
      proxy.setMode(mode);
      try {
        const [readyz, readyMs] = await timed(() => fetch(`${srv.url}/readyz`));
        assert.equal(readyz.status, 503);
        assert.deepEqual(await readyz.json(), { status: 'unavailable', failed: ['storage'] });
        assert.ok(readyMs < 5_000, `/readyz answered in ${readyMs} ms`);

        await new Promise((r) => setTimeout(r, UNANNOUNCED_MAX_AGE_MS + 100));
        const [mcp, mcpMs] = await timed(callTool);
        assert.equal(mcp.status, 503, `tools/call: ${mcp.text}`);
        assert.equal(mcp.headers.get('retry-after'), '5');
        assert.equal(mcp.body?.error?.code, -32603);
        assert.ok(mcpMs < 5_000, `tools/call answered in ${mcpMs} ms`);

        const [tokenRes, tokenMs] = await timed(() =>
          fetch(`${srv.url}/oauth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'refresh_token',
              client_id: 'some-client',
              refresh_token: 'x'.repeat(43),
            }).toString(),
          }),
        );
        assert.equal(tokenRes.status, 503);
        assert.equal(tokenRes.headers.get('retry-after'), '5');
        assert.equal(((await tokenRes.json()) as { error: string }).error, 'temporarily_unavailable');
        assert.ok(tokenMs < 5_000, `token endpoint answered in ${tokenMs} ms`);

        // A browser at the authorization endpoint (the client lookup needs the database): a page.
        const page = await fetch(
          `${srv.url}/oauth/authorize?response_type=code&client_id=some-client&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/cb')}`,
          { headers: { accept: 'text/html' }, redirect: 'manual' },
        );
        assert.equal(page.status, 503);
        assert.equal(page.headers.get('retry-after'), '5');
        assert.match(page.headers.get('content-type') ?? '', /text\/html/);
        assert.match(await page.text(), /temporarily_unavailable/);
      } finally {
        proxy.setMode('forward');
      }
      // Recovery needs no restart: the pool opens new connections once the database answers.
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = await ready();
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(status, 200, '/readyz recovered');
      assert.equal((await callTool()).status, 200, 'the same token works again');
    });
  }
});
