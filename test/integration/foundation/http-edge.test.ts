/**
 * Issue #2 acceptance at the HTTP edge of /mcp: DNS-rebinding guards (403), the body limit (413),
 * malformed JSON (400/-32700), the 2026-07-28 routing rules (404/-32601, 400/-32020, 405), health
 * and readiness, and JSON 404s for unknown routes — each with its exact status and error code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../../helpers/http.ts';
import { legacyInitialize, legacyPost, modernPost, rawPost } from '../../helpers/mcp-http.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_ANONYMOUS: '1' });
});
after(() => srv.close());

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const initializeBody = JSON.stringify({ jsonrpc: '2.0', ...legacyInitialize() });

describe('DNS-rebinding protection', () => {
  it('refuses a foreign Host header with 403 on every route', async () => {
    for (const path of ['/mcp', '/healthz']) {
      const res = await send(`${srv.loopbackUrl}${path}`, {
        method: path === '/mcp' ? 'POST' : 'GET',
        headers: { host: 'evil.example', ...JSON_HEADERS },
        ...(path === '/mcp' ? { body: initializeBody } : {}),
      });
      assert.equal(res.status, 403, path);
      assert.match(res.text, /Invalid Host/);
    }
  });

  it('refuses a foreign Origin on /mcp with 403 and accepts the local one', async () => {
    const evil = await send(srv.mcpUrl, {
      headers: { ...JSON_HEADERS, origin: 'https://evil.example' },
      body: initializeBody,
    });
    assert.equal(evil.status, 403);
    assert.match(evil.text, /Invalid Origin/);
    const local = await send(srv.mcpUrl, {
      headers: { ...JSON_HEADERS, origin: srv.url },
      body: initializeBody,
    });
    assert.equal(local.status, 200);
  });

  it('accepts the loopback Host forms', async () => {
    for (const host of [`localhost:${srv.port}`, `127.0.0.1:${srv.port}`]) {
      const res = await send(`${srv.loopbackUrl}/healthz`, { headers: { host } });
      assert.equal(res.status, 200, host);
    }
  });
});

describe('request bodies', () => {
  it('answers a 5 MB body with 413 and a JSON-RPC error', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
      params: { pad: 'x'.repeat(5 * 1024 * 1024) },
    });
    const res = await send(srv.mcpUrl, { headers: JSON_HEADERS, body });
    assert.equal(res.status, 413);
    assert.equal(res.json.jsonrpc, '2.0');
    assert.equal(res.json.error.code, -32600);
  });

  it('answers `{` with 400 and JSON-RPC parse error -32700', async () => {
    const res = await rawPost(srv.mcpUrl, '{', JSON_HEADERS);
    assert.equal(res.status, 400);
    assert.equal(res.body?.error?.code, -32700);
    assert.equal(res.body?.id, null);
  });
});

describe('2026-07-28 routing rules', () => {
  it('answers an unknown method with 404 and -32601, keeping the request id', async () => {
    const res = await modernPost(srv.mcpUrl, 'no/such-method', {}, { id: 42 });
    assert.equal(res.status, 404);
    assert.equal(res.body?.error?.code, -32601);
    assert.equal(res.body?.id, 42);
  });

  it('answers an Mcp-Name that disagrees with params.name with 400 and -32020 (HeaderMismatch)', async () => {
    const res = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'hello_world', arguments: {} },
      { headers: { 'mcp-name': 'admin_panel' } },
    );
    assert.equal(res.status, 400);
    assert.equal(res.body?.error?.code, -32020);
  });

  it('answers a missing MCP-Protocol-Version header with 400 and -32020', async () => {
    const res = await modernPost(srv.mcpUrl, 'tools/list', {}, { headers: { 'mcp-protocol-version': null } });
    assert.equal(res.status, 400);
    assert.equal(res.body?.error?.code, -32020);
  });

  it('serves a well-formed modern tools/call', async () => {
    const res = await modernPost(srv.mcpUrl, 'tools/call', {
      name: 'hello_world',
      arguments: { name: 'Edge' },
    });
    assert.equal(res.status, 200);
    const content = res.body?.result?.content as { text: string }[];
    assert.match(content[0]?.text ?? '', /^Hello, Edge!/);
  });

  it('answers GET and DELETE /mcp without a session with 400 (sessions: the id is required)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await send(srv.mcpUrl, { method, headers: { accept: 'text/event-stream' } });
      assert.equal(res.status, 400, method);
      assert.match(JSON.stringify(res.json), /Mcp-Session-Id header is required/);
    }
  });

  it('opens a session at a 2025-era initialize (Mcp-Session-Id)', async () => {
    const res = await legacyPost(srv.mcpUrl, legacyInitialize());
    assert.equal(res.status, 200);
    assert.match(res.headers.get('mcp-session-id') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual((res.body?.result?.serverInfo as { name?: string } | undefined)?.name, 'sekisho');
  });
});

describe('health and unknown routes', () => {
  it('GET /healthz → 200 {status: ok}', async () => {
    const res = await send(`${srv.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  it('GET /readyz → 200 while serving', async () => {
    const res = await send(`${srv.url}/readyz`);
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'ready');
  });

  it('an unknown route → 404 with a JSON error body', async () => {
    const res = await send(`${srv.url}/no/such/route?x=1`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(res.json, { error: 'not_found', error_description: 'No route for GET /no/such/route' });
  });
});
