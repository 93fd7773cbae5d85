/**
 * `sekisho doctor` against servers that are not a correct Sekisho: a plain MCP server without OAuth,
 * a deployment whose metadata breaks every rule it can, a dead network path; and the HTTP client's
 * bounds (redirects, response size, time) and parsers on their own. All on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { discoveryUrls } from '../../src/doctor/checks/as-metadata.ts';
import { prmUrls } from '../../src/doctor/checks/resource-metadata.ts';
import { parseChallenge } from '../../src/doctor/context.ts';
import {
  DoctorHttp,
  type HttpFailure,
  isLoopbackHost,
  MAX_RESPONSE_BYTES,
  parseConnectTo,
  redirectRefusal,
} from '../../src/doctor/http.ts';
import { type DoctorReport, runDoctor } from '../../src/doctor/index.ts';
import { renderReport } from '../../src/doctor/report.ts';
import { runCliCaptured } from '../helpers/cli.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, origin: string) => void;

async function serve(handler: Handler): Promise<{ origin: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res, origin));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const ids = (report: DoctorReport, status: string) =>
  report.findings
    .filter((f) => f.status === status)
    .map((f) => f.id)
    .sort();
const finding = (report: DoctorReport, id: string) => report.findings.find((f) => f.id === id);

const cli = (args: string[]) => runCliCaptured(args);

describe('doctor against a plain MCP server without OAuth', () => {
  let plain: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    plain = await serve((req, res) => {
      if (req.method === 'POST' && req.url === '/mcp')
        json(res, 200, {
          jsonrpc: '2.0',
          id: 1,
          result: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            serverInfo: { name: 'plain', version: '1' },
          },
        });
      else json(res, 404, { error: 'not_found' });
    });
  });
  after(() => plain?.close());

  it('finds no OAuth: anonymous answer, no protected-resource metadata; nothing OAuth is checked; exit 1', async () => {
    const report = await runDoctor(`${plain.origin}/mcp`, { timeoutMs: 30_000 });
    assert.deepEqual(ids(report, 'fail'), ['oauth.present', 'prm.path']);
    assert.deepEqual(ids(report, 'warn'), ['mcp.challenge', 'prm.root']);
    assert.equal(finding(report, 'as.discovery')?.status, 'skip');
    assert.equal(finding(report, 'keys.jwks')?.status, 'skip');
    assert.equal(finding(report, 'dry-run.register')?.status, 'skip');
    assert.equal(report.notes.length, 0, 'nothing registered');
    for (const p of report.profiles)
      assert.equal(p.blockers.find((b) => b.status === 'fail')?.finding, 'oauth.present');
    const result = await cli(['doctor', `${plain.origin}/mcp`]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /✖ No OAuth: the endpoint answers without a token/);
  });
});

describe('doctor against a deployment with broken metadata', () => {
  let broken: Awaited<ReturnType<typeof serve>>;
  const tenMinutesAhead = () => new Date(Date.now() + 600_000).toUTCString();
  before(async () => {
    broken = await serve((req, res, origin) => {
      const date = { date: tenMinutesAhead() };
      const path = req.url ?? '';
      if (req.method === 'POST' && path === '/mcp')
        json(
          res,
          401,
          { error: 'unauthorized' },
          {
            ...date,
            'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
          },
        );
      else if (path === '/.well-known/oauth-protected-resource/mcp')
        // issuer advertised with a trailing slash; the metadata says it without
        json(
          res,
          200,
          {
            resource: `${origin}/mcp`,
            authorization_servers: [`${origin}/`],
            scopes_supported: ['a', 'offline_access'],
          },
          date,
        );
      else if (path === '/.well-known/oauth-authorization-server')
        json(
          res,
          200,
          {
            issuer: origin,
            authorization_endpoint: `${origin}/authorize`,
            token_endpoint: `${origin}/token`,
            response_types_supported: ['code'],
            grant_types_supported: ['authorization_code'],
            token_endpoint_auth_methods_supported: ['client_secret_basic'],
            scopes_supported: ['a'],
            jwks_uri: `${origin}/jwks`,
          },
          date,
        );
      else if (path === '/jwks')
        json(
          res,
          200,
          {
            keys: [
              { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
              { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', d: 'private-part' },
            ],
          },
          date,
        );
      else json(res, 404, { error: 'not_found' }, date);
    });
  });
  after(() => broken?.close());

  it('finds each broken rule, never prints the private key, and names what breaks which client', async () => {
    const report = await runDoctor(`${broken.origin}/mcp`, { timeoutMs: 30_000 });
    assert.deepEqual(ids(report, 'fail'), [
      'as.auth-none',
      'as.dcr',
      'as.issuer',
      'as.pkce',
      'as.scopes',
      'clock.skew',
      'keys.sane',
    ]);
    assert.deepEqual(ids(report, 'warn'), [
      'as.cimd',
      'as.grant-types',
      'as.iss-parameter',
      'browser.expose',
      'browser.oauth-cors',
      'browser.preflight',
      'mcp.challenge-scope',
      'prm.root',
      'prm.scopes',
    ]);
    assert.match(
      finding(report, 'as.issuer')?.detail ?? '',
      new RegExp(`metadata says ${broken.origin}, the resource advertises ${broken.origin}/`),
    );
    assert.match(finding(report, 'keys.sane')?.detail ?? '', /kid hmac is not an asymmetric key \(kty oct\)/);
    assert.match(finding(report, 'keys.sane')?.detail ?? '', /key #2 publishes private members \(d\)/);
    assert.match(
      finding(report, 'clock.skew')?.detail ?? '',
      /server ahead of this machine by (599|600|601) s/,
    );
    assert.equal(finding(report, 'dry-run.register')?.status, 'skip');
    const text = `${renderReport(report)}\n${JSON.stringify(report)}`;
    assert.doesNotMatch(text, /private-part|c2VjcmV0/);

    const profile = (id: string) => report.profiles.find((p) => p.id === id);
    assert.ok(profile('vscode')?.blockers.some((b) => b.finding === 'as.auth-none'));
    assert.ok(!profile('sdk-v1')?.blockers.some((b) => b.finding === 'as.auth-none'), 'v1 keeps a secret');
    assert.ok(
      profile('inspector')?.blockers.some((b) => b.finding === 'browser.preflight' && b.status === 'warn'),
    );
    assert.ok(!profile('claude-code')?.blockers.some((b) => b.finding.startsWith('browser.')));
    // Cursor reads the challenge's metadata here (it names it), so the missing root form does not stop it.
    assert.ok(!profile('cursor')?.blockers.some((b) => b.finding === 'prm.root'));
    for (const p of report.profiles) assert.equal(p.status, 'broken', p.id);
  });
});

describe('the doctor on a dead network path', () => {
  it('gives up at --timeout and says the endpoint did not answer', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 9 });
    proxy.setMode('blackhole');
    try {
      const started = Date.now();
      const result = await cli(['doctor', `http://127.0.0.1:${proxy.port}/mcp`, '--timeout', '2', '--json']);
      const elapsed = Date.now() - started;
      assert.equal(result.code, 1);
      const report = JSON.parse(result.stdout) as DoctorReport;
      assert.deepEqual(ids(report, 'fail'), ['mcp.reachable']);
      assert.match(finding(report, 'mcp.reachable')?.detail ?? '', /no answer in time/);
      assert.ok(elapsed < 15_000, `bounded (${elapsed} ms)`);
    } finally {
      await proxy.close();
    }
  });
});

describe('the doctor HTTP client', () => {
  let site: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    site = await serve((req, res) => {
      if (req.url === '/away') res.writeHead(302, { location: 'http://evil.example/login' }).end();
      else if (req.url === '/scheme') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else if (req.url === '/big') res.end(Buffer.alloc(MAX_RESPONSE_BYTES + 1024, 'x'));
      else if (req.url === '/slow')
        return; // never answered
      else if (req.url === '/cookie')
        res.writeHead(302, { location: '/echo', 'set-cookie': 'sid=abc; Path=/; HttpOnly' }).end();
      else if (req.url === '/echo') res.end(req.headers.cookie ?? '');
      else res.writeHead(404).end();
    });
  });
  after(() => site?.close());
  const client = (ms = 10_000) => new DoctorHttp({ deadline: Date.now() + ms, requestTimeoutMs: ms });

  it('refuses redirects to http on a public host and to other schemes, before connecting', async () => {
    await assert.rejects(client().follow(`${site.origin}/away`), (e: HttpFailure) => {
      assert.equal(e.kind, 'redirect_refused');
      assert.match(e.message, /plain http on a public host \(http:\/\/evil\.example\)/);
      return true;
    });
    await assert.rejects(client().follow(`${site.origin}/scheme`), { kind: 'redirect_refused' });
  });

  it('follows at most 5 redirects, caps answers at 1 MiB, and times out', async () => {
    await assert.rejects(client().follow(`${site.origin}/loop`), { kind: 'too_many_redirects' });
    await assert.rejects(client().request(`${site.origin}/big`), { kind: 'too_large' });
    const started = Date.now();
    await assert.rejects(client(1_000).request(`${site.origin}/slow`), { kind: 'timeout' });
    assert.ok(Date.now() - started < 10_000);
    await assert.rejects(
      new DoctorHttp({ deadline: Date.now() - 1, requestTimeoutMs: 1000 }).request(site.origin),
      {
        kind: 'timeout',
      },
    );
  });

  it('sends cookies back within one walk, to the same origin', async () => {
    const walk = await client().follow(`${site.origin}/cookie`);
    assert.equal(walk.response.body, 'sid=abc');
    assert.equal((await client().request(`${site.origin}/echo`)).body, '');
  });

  it('renders server text on one line: no control character reaches the terminal', () => {
    const text = renderReport({
      url: 'https://x.example/mcp',
      checkedAt: '',
      durationMs: 1,
      summary: { pass: 0, warn: 0, fail: 1, skip: 0 },
      findings: [
        {
          id: 'as.issuer',
          group: 'authorization-server',
          status: 'fail',
          title: 'issuer \u001b[2J',
          detail: 'evil\r\n  ✔ forged line\u0007',
          fix: 'fix\u009b',
        },
      ],
      profiles: [],
      notes: ['registered \u001b]0;title\u0007'],
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    assert.doesNotMatch(text, /^ {2}✔ forged line/m);
    assert.match(text, /^ {2}✖ issuer/m);
  });

  it('judges redirects, loopback names, --connect-to, challenges and discovery URLs', () => {
    const u = (s: string) => new URL(s);
    assert.equal(redirectRefusal(u('https://a.example/x'), u('https://b.example/y')), undefined);
    assert.equal(redirectRefusal(u('http://localhost:1/x'), u('http://127.0.0.1:2/y')), undefined);
    assert.match(
      redirectRefusal(u('https://a.example/x'), u('http://localhost/y')) ?? '',
      /from https down to http/,
    );
    assert.match(redirectRefusal(u('http://localhost/x'), u('http://a.example/y')) ?? '', /public host/);
    for (const h of ['localhost', 'a.localhost', '127.0.0.1', '127.9.9.9', '[::1]'])
      assert.ok(isLoopbackHost(h), h);
    for (const h of ['example.com', '10.0.0.1', 'localhost.example.com', '128.0.0.1'])
      assert.ok(!isLoopbackHost(h), h);
    assert.deepEqual(parseConnectTo('mcp.example.com:443:127.0.0.1:8443'), {
      host: 'mcp.example.com',
      port: '443',
      toHost: '127.0.0.1',
      toPort: '8443',
    });
    assert.deepEqual(parseConnectTo('::[::1]:'), { host: '', port: '', toHost: '::1', toPort: '' });
    for (const bad of ['', 'a:b:c:d', 'host:443', 'a:1:b']) assert.equal(parseConnectTo(bad), undefined, bad);
    assert.deepEqual(
      parseChallenge('Bearer scope="a b", resource_metadata="https://x/.well-known/y", error=invalid_token'),
      {
        scheme: 'Bearer',
        params: { scope: 'a b', resource_metadata: 'https://x/.well-known/y', error: 'invalid_token' },
      },
    );
    assert.equal(parseChallenge(undefined), undefined);
    assert.deepEqual(discoveryUrls(u('https://auth.example.com')), [
      'https://auth.example.com/.well-known/oauth-authorization-server',
      'https://auth.example.com/.well-known/openid-configuration',
    ]);
    assert.deepEqual(discoveryUrls(u('https://auth.example.com/tenant1')), [
      'https://auth.example.com/.well-known/oauth-authorization-server/tenant1',
      'https://auth.example.com/.well-known/openid-configuration/tenant1',
      'https://auth.example.com/tenant1/.well-known/openid-configuration',
    ]);
    assert.deepEqual(prmUrls(u('https://h.example/public/mcp')), {
      path: 'https://h.example/.well-known/oauth-protected-resource/public/mcp',
      root: 'https://h.example/.well-known/oauth-protected-resource',
    });
  });
});

describe('sekisho doctor usage errors', () => {
  it('exits 2 on a bad URL, timeout, origin or --connect-to', async () => {
    for (const args of [
      ['doctor', 'not-a-url'],
      ['doctor', 'ftp://x/mcp'],
      ['doctor', 'https://u:p@x/mcp'],
      ['doctor', 'https://x/mcp', '--timeout', 'abc'],
      ['doctor', 'https://x/mcp', '--timeout', '0'],
      ['doctor', 'https://x/mcp', '--origin', 'https://app.example/path'],
      ['doctor', 'https://x/mcp', '--connect-to', 'nonsense'],
      ['doctor'],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
  });
});
