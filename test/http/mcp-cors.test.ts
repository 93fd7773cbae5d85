/**
 * Browser-based MCP clients must be able to preflight /mcp without credentials and read the
 * `WWW-Authenticate` challenge that starts OAuth — only for origins the operator allowed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_ALLOWED_ORIGINS: 'http://localhost:6274' });
});
after(() => srv.close());

const BROWSER = 'http://localhost:6274';

describe('CORS on /mcp', () => {
  it('answers a preflight from an allowed origin with 204, before the bearer gate', async () => {
    const res = await fetch(srv.mcpUrl, {
      method: 'OPTIONS',
      headers: {
        origin: BROWSER,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), BROWSER);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /MCP-Protocol-Version/);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(res.headers.get('vary') ?? '', /Origin/);
  });

  it('refuses a preflight from a foreign origin with 403 and no CORS grant', async () => {
    const res = await fetch(srv.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('lets the browser read the 401 challenge that starts OAuth', async () => {
    const res = await fetch(srv.mcpUrl, {
      method: 'POST',
      headers: {
        origin: BROWSER,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), BROWSER);
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    assert.match(res.headers.get('www-authenticate') ?? '', /resource_metadata="/);
  });

  it('adds nothing for non-browser requests (no Origin header)', async () => {
    const res = await fetch(srv.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});
