/**
 * The fast lane must be invisible: two servers, identical but for SEKISHO_FAST_LANE, receive the same
 * requests and must answer with the same status, content type, challenge and JSON-RPC message
 * (timestamps aside). The hot requests must really be answered by the lane (its answers carry a
 * Content-Length; the SDK's are chunked) and everything else must reach the SDK untouched: wrong or
 * missing routing headers, unknown, hidden or step-up tools, invalid arguments, bad tokens, bad
 * Host/Origin, malformed JSON, cursors, progress tokens, batches, notifications.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { trustTestKeys } from '../helpers/trusted-tokens.ts';

const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'fast-lane-test', version: '0' },
};

interface Side {
  srv: TestServer;
  token(username: string, scope: string): Promise<string>;
}

/**
 * 2025-era requests reach the lane only when they are served statelessly: with sessions (the default)
 * each belongs to a session and the lane declines it (the last test below).
 */
async function side(env: Record<string, string>): Promise<Side> {
  const srv = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_MCP_SESSIONS: '0', ...env });
  const { token } = await trustTestKeys(srv, 'fast-lane');
  return { srv, token };
}

interface Answer {
  status: number;
  type: string | undefined;
  challenge: string | undefined;
  framing: 'length' | 'chunked' | 'none';
  message: unknown;
}

/** One raw HTTP/1.1 POST to /mcp with exactly these headers (so Host can be set too). */
function post(srv: TestServer, body: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: srv.port,
        path: '/mcp',
        method: 'POST',
        headers: { host: `127.0.0.1:${srv.port}`, 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          const challenge = res.headers['www-authenticate'];
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type']?.split(';')[0],
            challenge:
              typeof challenge === 'string' ? normalise(challenge.replace(/:\d+/g, ':PORT')) : undefined,
            framing: res.headers['content-length']
              ? 'length'
              : res.headers['transfer-encoding']
                ? 'chunked'
                : 'none',
            message: parse(text),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function parse(text: string): unknown {
  const t = text.trim();
  if (!t) return undefined;
  if (!t.startsWith('{')) {
    const data = t
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trim());
    return data.map((d) => JSON.parse(normalise(d)));
  }
  return JSON.parse(normalise(t));
}

/** Timestamps, ports and generated ids differ between the two servers; nothing else may. */
function normalise(s: string): string {
  return (
    s
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/localhost:\d+/g, 'localhost:PORT')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
      .replace(/grant-[a-z]+-\d+/g, '<grant>')
      .replace(/usr_[A-Za-z0-9_-]+/g, '<user id>')
      // Live figures in admin reports (protected_data admin) move between two servers' answers.
      .replace(
        /(Memory Usage: |Server Uptime: |"heapUsedMb":|"uptimeSeconds":)\d+/g,
        (_m, label: string) => `${label}0`,
      )
      .replace(/\b1\d{9}\b/g, '<epoch>')
  );
}

type Era = 'modern' | '2025-06-18' | '2025-11-25';
interface Case {
  name: string;
  era: Era;
  method: string;
  params?: Record<string, unknown>;
  user?: [string, string];
  /** Header overrides (null removes); body override; expected lane. */
  headers?: Record<string, string | null>;
  rawBody?: string;
  id?: number | string;
  fast: boolean;
}

function build(c: Case, token: string | undefined): { body: string; headers: Record<string, string> } {
  const params = { ...(c.params ?? {}) };
  if (c.era === 'modern') params._meta = { ...ENVELOPE, ...((c.params?._meta as object) ?? {}) };
  const message = { jsonrpc: '2.0', id: c.id ?? 7, method: c.method, params };
  const headers: Record<string, string | null> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': c.era === 'modern' ? MODERN : c.era,
    ...(c.era === 'modern' && { 'mcp-method': c.method }),
    ...(c.era === 'modern' && typeof params.name === 'string' && { 'mcp-name': params.name }),
    ...(token && { authorization: `Bearer ${token}` }),
    ...c.headers,
  };
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== null) clean[k] = v;
  return { body: c.rawBody ?? JSON.stringify(message), headers: clean };
}

const call = (name: string, args?: Record<string, unknown>) => ({
  name,
  ...(args !== undefined && { arguments: args }),
});
const DEMO: [string, string] = ['demo', 'mcp:tools'];
const DEMO_DATA: [string, string] = ['demo', 'mcp:tools mcp:data'];
const ADMIN: [string, string] = ['admin', 'mcp:tools mcp:data mcp:admin'];

const HOT: Case[] = [];
for (const era of ['modern', '2025-06-18', '2025-11-25'] as const) {
  HOT.push(
    { name: `${era} anonymous tools/list`, era, method: 'tools/list', fast: true },
    {
      name: `${era} anonymous hello_world`,
      era,
      method: 'tools/call',
      params: call('hello_world', {}),
      fast: true,
    },
    {
      name: `${era} hello_world, no arguments member`,
      era,
      method: 'tools/call',
      params: call('hello_world'),
      fast: true,
    },
    { name: `${era} demo tools/list`, era, method: 'tools/list', user: DEMO, fast: true },
    { name: `${era} admin tools/list`, era, method: 'tools/list', user: ADMIN, fast: true },
    {
      name: `${era} demo hello_world named`,
      era,
      method: 'tools/call',
      params: call('hello_world', { name: 'Ada' }),
      user: DEMO,
      fast: true,
    },
    {
      name: `${era} demo auth_status`,
      era,
      method: 'tools/call',
      params: call('auth_status', {}),
      user: DEMO,
      fast: true,
    },
    {
      name: `${era} demo user_profile`,
      era,
      method: 'tools/call',
      params: call('user_profile', {}),
      user: DEMO_DATA,
      fast: true,
    },
    {
      name: `${era} admin protected_data admin`,
      era,
      method: 'tools/call',
      params: call('protected_data', { category: 'admin' }),
      user: ADMIN,
      fast: true,
    },
    {
      name: `${era} string id`,
      era,
      method: 'tools/call',
      params: call('hello_world', {}),
      id: 'req-1',
      fast: true,
    },
  );
}

const EDGE: Case[] = [
  {
    name: 'invalid arguments',
    era: 'modern',
    method: 'tools/call',
    params: call('hello_world', { name: 42 }),
    fast: false,
  },
  {
    name: 'legacy invalid arguments',
    era: '2025-11-25',
    method: 'tools/call',
    params: call('hello_world', { name: 42 }),
    fast: false,
  },
  { name: 'unknown tool', era: 'modern', method: 'tools/call', params: call('nope', {}), fast: false },
  {
    name: 'tool hidden from the role',
    era: 'modern',
    method: 'tools/call',
    params: call('admin_panel', {}),
    user: DEMO,
    fast: false,
  },
  {
    name: 'step-up needed',
    era: 'modern',
    method: 'tools/call',
    params: call('protected_data', { category: 'admin' }),
    user: DEMO,
    fast: false,
  },
  {
    name: 'anonymous call of a signed-in tool',
    era: 'modern',
    method: 'tools/call',
    params: call('user_profile', {}),
    fast: false,
  },
  {
    name: 'garbage token',
    era: 'modern',
    method: 'tools/call',
    params: call('hello_world', {}),
    headers: { authorization: 'Bearer abc.def.ghi' },
    fast: false,
  },
  {
    name: 'Mcp-Name mismatch',
    era: 'modern',
    method: 'tools/call',
    params: call('hello_world', {}),
    headers: { 'mcp-name': 'auth_status' },
    fast: false,
  },
  {
    name: 'Mcp-Method missing',
    era: 'modern',
    method: 'tools/list',
    headers: { 'mcp-method': null },
    fast: false,
  },
  {
    name: 'version header mismatch',
    era: 'modern',
    method: 'tools/list',
    headers: { 'mcp-protocol-version': '2025-11-25' },
    fast: false,
  },
  {
    name: 'unsupported legacy version',
    era: '2025-06-18',
    method: 'tools/list',
    headers: { 'mcp-protocol-version': '2024-01-01' },
    fast: false,
  },
  {
    name: 'Accept without SSE (legacy)',
    era: '2025-11-25',
    method: 'tools/list',
    headers: { accept: 'application/json' },
    fast: false,
  },
  {
    name: 'Accept without SSE (modern)',
    era: 'modern',
    method: 'tools/list',
    headers: { accept: 'application/json' },
    fast: false,
  },
  { name: 'bad Host', era: 'modern', method: 'tools/list', headers: { host: 'evil.example' }, fast: false },
  {
    name: 'bad Origin',
    era: 'modern',
    method: 'tools/list',
    headers: { origin: 'https://evil.example' },
    fast: false,
  },
  { name: 'malformed JSON', era: 'modern', method: 'tools/list', rawBody: '{"jsonrpc":', fast: false },
  {
    name: 'a JSON string, not an object',
    era: 'modern',
    method: 'tools/list',
    rawBody: '"tools/list"',
    fast: false,
  },
  { name: 'JSON null', era: 'modern', method: 'tools/list', rawBody: 'null', fast: false },
  {
    name: 'a byte-order mark before the JSON',
    era: 'modern',
    method: 'tools/call',
    rawBody: `\ufeff${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'hello_world', arguments: {}, _meta: ENVELOPE } })}`,
    headers: { 'mcp-name': 'hello_world' },
    fast: true,
  },
  {
    name: 'malformed JSON with a bad Origin',
    era: 'modern',
    method: 'tools/list',
    rawBody: '{',
    headers: { origin: 'https://evil.example' },
    fast: false,
  },
  { name: 'pagination cursor', era: 'modern', method: 'tools/list', params: { cursor: 'abc' }, fast: false },
  {
    name: 'progress token',
    era: 'modern',
    method: 'tools/call',
    params: { ...call('hello_world', {}), _meta: { progressToken: 1 } },
    fast: false,
  },
  {
    name: 'legacy _meta',
    era: '2025-06-18',
    method: 'tools/call',
    params: { ...call('hello_world', {}), _meta: { progressToken: 1 } },
    fast: false,
  },
  { name: 'other method', era: 'modern', method: 'server/discover', fast: false },
  { name: 'legacy ping', era: '2025-11-25', method: 'ping', fast: false },
  {
    name: 'notification',
    era: '2025-11-25',
    method: 'notifications/initialized',
    rawBody: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    fast: false,
  },
  {
    name: 'batch',
    era: '2025-06-18',
    method: 'tools/list',
    rawBody: '[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]',
    fast: false,
  },
  {
    name: 'no id',
    era: 'modern',
    method: 'tools/list',
    rawBody: '{"jsonrpc":"2.0","method":"tools/list","params":{}}',
    fast: false,
  },
];

describe('MCP fast lane: same answers as the full pipeline', () => {
  let fast: Side;
  let full: Side;
  before(async () => {
    [fast, full] = await Promise.all([side({}), side({ SEKISHO_FAST_LANE: '0' })]);
  });
  after(async () => {
    await Promise.all([fast?.srv.close(), full?.srv.close()]);
  });

  for (const c of [...HOT, ...EDGE]) {
    it(`${c.fast ? 'answers' : 'hands over'}: ${c.name}`, async () => {
      const [tf, ts] = c.user
        ? await Promise.all([fast.token(...c.user), full.token(...c.user)])
        : [undefined, undefined];
      const a = build(c, tf);
      const b = build(c, ts);
      const [viaFast, viaFull] = await Promise.all([
        post(fast.srv, a.body, a.headers),
        post(full.srv, b.body, b.headers),
      ]);
      const { framing: fastFraming, ...fastAnswer } = viaFast;
      const { framing: _full, ...fullAnswer } = viaFull;
      assert.deepEqual(fastAnswer, fullAnswer);
      if (c.fast) {
        assert.equal(viaFast.status, 200, JSON.stringify(viaFast.message));
        assert.equal(fastFraming, 'length', 'answered by the fast lane');
      } else if (viaFast.status === 200) {
        assert.notEqual(fastFraming, 'length', 'must be answered by the SDK, not the fast lane');
      }
    });
  }

  it('logs the same request line for lane answers', async () => {
    const lines: string[] = [];
    const { createLogger } = await import('../../src/observability/logger.ts');
    const logger = createLogger('info', { write: (line: string) => lines.push(line) } as never);
    const srv = await startTestServer({ SEKISHO_DEMO: '1' }, { logger });
    try {
      const { body, headers } = build(
        { name: '', era: 'modern', method: 'tools/list', fast: true },
        undefined,
      );
      const answer = await post(srv, body, headers);
      assert.equal(answer.framing, 'length');
      const entry = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request');
      assert.ok(entry, 'a request log line');
      assert.equal(entry.method, 'POST');
      assert.equal(entry.path, '/mcp');
      assert.equal(entry.status, 200);
      assert.equal(typeof entry.ms, 'number');
    } finally {
      await srv.close();
    }
  });

  it('leaves 2025-era requests to their session when sessions are on (the default)', async () => {
    const srv = await startTestServer({ SEKISHO_DEMO: '1', SEKISHO_ANONYMOUS: '1' });
    try {
      const { body, headers } = build(
        { name: '', era: '2025-11-25', method: 'tools/list', fast: false },
        undefined,
      );
      const answer = await post(srv, body, headers);
      assert.equal(answer.status, 400, 'no Mcp-Session-Id: the session transport answers, not the lane');
      assert.notEqual(answer.framing, 'length');
    } finally {
      await srv.close();
    }
  });
});
