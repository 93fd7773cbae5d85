/**
 * Regression tests for the "5xx on client errors" defects of issue 8, each at its cause: a client's
 * mistake is answered 4xx with a clear error, never 500, never an error-level log line, and never a
 * connection reset instead of an answer.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MAX_JSON_DEPTH } from '../../src/mcp/json-depth.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { send } from '../helpers/http.ts';
import { registerClient } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { trustTestKeys } from '../helpers/trusted-tokens.ts';

const levels: number[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) levels.push(JSON.parse(line).level);
    done();
  },
});
const logger = createLogger('warn', sink);

/** Anonymous access on, fast lane on (the default) / off, and a server that requires a token. */
let lane: TestServer;
let express: TestServer;
let tokenOnly: TestServer;
let demoToken: string;
before(async () => {
  [lane, express, tokenOnly] = await Promise.all([
    startTestServer({ SEKISHO_DEMO: '1', SEKISHO_ANONYMOUS: '1' }, { logger }),
    startTestServer({ SEKISHO_DEMO: '1', SEKISHO_ANONYMOUS: '1', SEKISHO_FAST_LANE: '0' }, { logger }),
    startTestServer({ SEKISHO_DEMO: '1' }, { logger }),
  ]);
  demoToken = await (await trustTestKeys(tokenOnly, 'client-errors')).token('demo', 'openid mcp:tools');
});
after(async () => {
  await Promise.all([lane?.close(), express?.close(), tokenOnly?.close()]);
  // Nothing any test here sent is the server's fault.
  assert.deepEqual(
    levels.filter((l) => l >= 50),
    [],
    'client input produced error-level log lines',
  );
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const FORM_ROUTES = [
  '/interaction/some-uid/login',
  '/interaction/some-uid/consent',
  '/account/login',
  '/account/revoke',
];

describe('malformed percent-escapes in page paths', () => {
  for (const path of [
    '/interaction/%ZZ',
    '/interaction/%E0%A4%A/login',
    '/interaction/%/consent',
    '/interaction/%C0',
  ]) {
    it(`${path} → 400 (JSON for API clients, the error page for browsers)`, async () => {
      const method = path.endsWith('/login') || path.endsWith('/consent') ? 'POST' : 'GET';
      const api = await send(`${lane.url}${path}`, {
        method,
        headers: FORM,
        body: method === 'POST' ? 'a=1' : undefined,
      });
      assert.equal(api.status, 400, api.text);
      assert.equal(api.json.error, 'invalid_request');
      const browser = await send(`${lane.url}${path}`, { method: 'GET', headers: { accept: 'text/html' } });
      assert.equal(browser.status, 400);
      assert.match(String(browser.headers['content-type']), /text\/html/);
      assert.match(String(browser.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.doesNotMatch(browser.text, /URIError|at decodeURIComponent/);
    });
  }

  for (const path of [
    '/oauth/auth/%?response_type=code',
    '/oauth/auth/%ZZ',
    '/oauth/reg/%E0%A4%A',
    '/oauth/%ZZ',
  ]) {
    it(`${path} (an oidc-provider route) → 400 before oidc-provider decodes it`, async () => {
      const api = await send(`${lane.url}${path}`);
      assert.equal(api.status, 400, api.text);
      assert.equal(api.json.error, 'invalid_request');
      assert.equal(api.json.error_description, 'Malformed percent-escape in the request path.');
      const browser = await send(`${lane.url}${path}`, { headers: { accept: 'text/html' } });
      assert.equal(browser.status, 400);
      assert.match(String(browser.headers['content-type']), /text\/html/);
      assert.doesNotMatch(browser.text, /URIError|decodeURIComponent/);
    });
  }

  it('a resume URL with an authorization query for a real client → 400, not 500 (found by the fuzzer, seed 20261203)', async () => {
    const client = await registerClient(lane.url);
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scope: 'openid offline_access',
      state: '\ufffd',
    });
    for (const uid of ['.json', 'no-such-interaction']) {
      const res = await send(`${lane.url}/oauth/authorize/${uid}?${query}`, {
        headers: { accept: 'text/html' },
      });
      assert.equal(res.status, 400, `${uid}: ${res.text.slice(0, 200)}`);
    }
  });

  it('any other route with a bad escape answers 4xx, never 5xx', async () => {
    for (const path of [
      '/account/%ZZ',
      '/oauth/%ZZ',
      '/oauth/reg/%ZZ',
      '/%ZZ',
      '/mcp/%ZZ',
      '/.well-known/%ZZ',
      '/static/%ZZ',
    ]) {
      const res = await send(`${lane.url}${path}`);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
    }
  });
});

describe('page forms', () => {
  for (const path of FORM_ROUTES) {
    it(`${path}: a form over the body limit → 413, too many fields → 413`, async () => {
      const big = await send(`${lane.url}${path}`, { headers: FORM, body: `username=${'x'.repeat(20_000)}` });
      assert.equal(big.status, 413, big.text);
      assert.equal(big.json.error_description, 'Request body too large.');
      const many = Array.from({ length: 50 }, (_, i) => `f${i}=1`).join('&');
      const fields = await send(`${lane.url}${path}`, { headers: FORM, body: many });
      assert.equal(fields.status, 413, fields.text);
      assert.equal(fields.json.error_description, 'Too many form fields.');
    });
  }
});

/** `levels` levels of arrays, innermost holding `1`. */
const nested = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

const MODERN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'hello_world',
};

/** A hello_world call whose arguments carry `extra` (the envelope itself is 3 levels deep). */
function helloWith(extra: string): string {
  return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"hello_world","arguments":{"name":"deep","extra":${extra}},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"0"}}}}`;
}

describe(`JSON nesting is capped at ${MAX_JSON_DEPTH} levels at parse time, on every path`, () => {
  const TOO_DEEP = {
    jsonrpc: '2.0',
    id: null,
    error: { code: -32600, message: `Invalid request: JSON nested deeper than ${MAX_JSON_DEPTH} levels.` },
  };

  for (const [name, body] of [
    ['a whole body 5,000 levels deep', nested(5_000)],
    ['tools/call arguments 5,000 levels deep', helloWith(nested(5_000))],
    [`arguments that take the body to ${MAX_JSON_DEPTH + 1} levels`, helloWith(nested(MAX_JSON_DEPTH - 2))],
  ] as const) {
    it(`${name}: the same 400 JSON-RPC error from the fast lane and the Express/SDK path`, async () => {
      for (const srv of [lane, express]) {
        const res = await send(srv.mcpUrl, { headers: MODERN_HEADERS, body });
        assert.equal(res.status, 400, res.text);
        assert.deepEqual(res.json, TOO_DEEP);
      }
      // With a token (the lane then runs the gate first on a token-only server) and without one.
      for (const auth of [{ authorization: `Bearer ${demoToken}` }, {}] as Record<string, string>[]) {
        const res = await send(tokenOnly.mcpUrl, { headers: { ...MODERN_HEADERS, ...auth }, body });
        assert.equal(res.status, 400, res.text);
        assert.deepEqual(res.json, TOO_DEEP);
      }
    });
  }

  it(`a body exactly ${MAX_JSON_DEPTH} levels deep is served`, async () => {
    for (const srv of [lane, express]) {
      const res = await send(srv.mcpUrl, {
        headers: MODERN_HEADERS,
        body: helloWith(nested(MAX_JSON_DEPTH - 3)),
      });
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, /deep/);
    }
  });
});

describe('/mcp answers 405 with Allow to every method it does not serve', () => {
  // (A method Node's parser does not know never reaches us: Node answers it 400 itself.)
  for (const method of ['TRACE', 'PUT', 'PATCH', 'PROPFIND', 'SEARCH']) {
    it(`${method}: anonymously, with a valid token, and without one where a token is required`, async () => {
      const cases: { srv: TestServer; headers: Record<string, string> }[] = [
        { srv: lane, headers: {} },
        { srv: express, headers: {} },
        { srv: tokenOnly, headers: { authorization: `Bearer ${demoToken}` } },
        { srv: tokenOnly, headers: {} },
      ];
      for (const { srv, headers } of cases) {
        const res = await send(srv.mcpUrl, { method, headers });
        assert.equal(res.status, 405, `${method}: ${res.text}`);
        assert.equal(res.headers.allow, 'POST');
        assert.equal(res.json.error.message, 'Method not allowed.');
      }
    });
  }

  it('TRACE with a body is answered, not read', async () => {
    const res = await send(lane.mcpUrl, {
      method: 'TRACE',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 405);
  });
});

/**
 * Sends a request with a large body over a raw socket, writing the whole body before it looks for an
 * answer (as many clients do), and reports the status line and whether writing failed.
 */
function requestWithLargeBody(srv: TestServer, method: string, path: string, size: number, extra = '') {
  return new Promise<{ status: string; writeError?: string }>((resolve) => {
    const socket = connect(srv.port, '127.0.0.1');
    let received = '';
    let writeError: string | undefined;
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      writeError ??= e.code;
    });
    socket.on('close', () => resolve({ status: received.split('\r\n')[0] ?? '', writeError }));
    socket.write(
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Length: ${size}\r\nConnection: close\r\n${extra}\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!socket.write(part)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe('an answer sent before the body is read is never lost to a reset', () => {
  const size = 3_000_000; // three times the body limit: answered long before it has arrived
  for (const [method, path, extra] of [
    ['GET', '/mcp', ''],
    ['GET', '/healthz', ''],
    ['GET', '/oauth/jwks', ''],
    ['TRACE', '/mcp', ''],
    ['POST', '/mcp', 'Content-Type: application/json\r\n'],
    ['POST', '/account/login', 'Content-Type: application/x-www-form-urlencoded\r\n'],
  ] as const) {
    it(`${method} ${path} with a ${size / 1e6} MB body and Connection: close: the client finishes sending and reads the answer`, async () => {
      const { status, writeError } = await requestWithLargeBody(lane, method, path, size, extra);
      assert.match(status, /^HTTP\/1\.1 [2-4]\d\d /, status);
      assert.equal(
        writeError,
        undefined,
        `the server reset the connection (${writeError}) while the body was still coming`,
      );
    });
  }
});

/** One raw request line + headers on a socket; the status line of the answer. */
function rawStatus(srv: TestServer, head: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(srv.port, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    socket.write(head);
  });
}

describe('absolute-form request targets (RFC 9112 §3.2.2)', () => {
  it('take their host from the target: a foreign one is refused 403, ours is served, garbage is 400', async () => {
    const foreign = await rawStatus(
      lane,
      `GET http://evil.example/mcp HTTP/1.1\r\nHost: 127.0.0.1:${lane.port}\r\n\r\n`,
    );
    assert.match(foreign, /^HTTP\/1\.1 403 /);
    const ours = await rawStatus(
      lane,
      `GET http://127.0.0.1:${lane.port}/healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n`,
    );
    assert.match(ours, /^HTTP\/1\.1 200 /);
    const mcp = await rawStatus(
      lane,
      `TRACE http://127.0.0.1:${lane.port}/mcp HTTP/1.1\r\nHost: 127.0.0.1:${lane.port}\r\n\r\n`,
    );
    assert.match(mcp, /^HTTP\/1\.1 405 /);
    const garbage = await rawStatus(lane, `GET ftp://x/mcp HTTP/1.1\r\nHost: 127.0.0.1:${lane.port}\r\n\r\n`);
    assert.match(garbage, /^HTTP\/1\.1 400 /);
  });
});
