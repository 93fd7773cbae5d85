/**
 * `GET /` (issue 9): the seed's "Server info" — HTML for a browser (English or Japanese, the page
 * security headers, links to the account page, every client's setup), JSON with the same facts for
 * `Accept: application/json`, endpoints that are the ones the metadata publishes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv?.close());

describe('the home page', () => {
  it('answers JSON to Accept: application/json, with the endpoints the metadata publishes', async () => {
    const res = await fetch(`${srv.url}/`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(res.headers.get('vary') ?? '', /Accept/);
    const info = await res.json();
    assert.equal(info.mcp.url, srv.mcpUrl);
    assert.equal(info.account, `${srv.url}/account`);
    assert.deepEqual(info.mode, { demo: true, anonymous: true });
    const metadata = await (await fetch(`${srv.url}/.well-known/oauth-authorization-server`)).json();
    for (const key of [
      'authorization_endpoint',
      'token_endpoint',
      'registration_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
    ]) {
      assert.equal(info.authorization.endpoints[key], metadata[key], key);
    }
    assert.equal(info.authorization.endpoints.authorization_endpoint, `${srv.url}/oauth/authorize`);
    const prm = await fetch(info.authorization.metadata.protected_resource_metadata);
    assert.equal(prm.status, 200);
    assert.deepEqual(
      info.clients.map((c: { id: string }) => c.id),
      ['inspector', 'claude-code', 'claude-desktop', 'vscode', 'cursor'],
    );
    assert.match(
      info.clients[0].command,
      /^npx -y -p node@22 -p @modelcontextprotocol\/inspector@2\.12\.0 mcp-inspector$/,
    );
    assert.equal(info.tools.find((t: { name: string }) => t.name === 'admin_panel')?.access, 'admin');
    assert.equal(info.tools.find((t: { name: string }) => t.name === 'hello_world')?.access, 'public');
  });

  it('answers HTML to a browser, with the page headers, in Japanese when asked', async () => {
    const res = await fetch(`${srv.url}/`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'accept-language': 'ja,en;q=0.5' },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const page = await res.text();
    assert.match(page, /<html lang="ja">/);
    assert.match(page, /リモート MCP サーバー/);
    assert.ok(page.includes(`href="${srv.url}/account"`));
    assert.ok(page.includes(`<code>${srv.mcpUrl}</code>`));
    for (const name of ['MCP Inspector 2.12.0', 'Claude Code', 'Claude Desktop', 'VS Code', 'Cursor']) {
      assert.ok(page.includes(name), name);
    }
    // JSON snippets are escaped, not emitted raw.
    assert.match(page, /&quot;mcpServers&quot;/);
    assert.doesNotMatch(page, /<script/i);
  });

  it('curl without Accept gets HTML; other methods and paths are not served here', async () => {
    assert.match((await fetch(`${srv.url}/`)).headers.get('content-type') ?? '', /^text\/html/);
    assert.equal((await fetch(`${srv.url}/`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${srv.url}/index.html`)).status, 404);
  });
});
