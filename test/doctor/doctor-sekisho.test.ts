/**
 * `sekisho doctor` against real Sekisho servers: the correct deployment passes for every client; each
 * seeded misconfiguration (base URL not the one reached behind a proxy, a Host not allowed, plain
 * http on a public name) is found, exactly, with the fix naming the setting. Traffic stays on
 * 127.0.0.1: public names are reached through the doctor's --connect-to, as curl's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DoctorReport, runDoctor } from '../../src/doctor/index.ts';
import { runCliCaptured } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const TIMEOUT_MS = 60_000;

const ids = (report: DoctorReport, status: string) =>
  report.findings
    .filter((f) => f.status === status)
    .map((f) => f.id)
    .sort();
const finding = (report: DoctorReport, id: string) => {
  const f = report.findings.find((x) => x.id === id);
  assert.ok(f, `finding ${id} present`);
  return f;
};

const cli = (args: string[]) => runCliCaptured(args);

describe('doctor against a correct Sekisho', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv?.close());

  it('passes every check and every client profile, and says which client it registered', async () => {
    const report = await runDoctor(srv.mcpUrl, { timeoutMs: TIMEOUT_MS });
    assert.deepEqual(ids(report, 'fail'), []);
    assert.deepEqual(ids(report, 'warn'), []);
    assert.deepEqual(ids(report, 'skip'), []);
    for (const id of [
      'mcp.challenge',
      'prm.path',
      'prm.root',
      'prm.resource.path',
      'as.issuer',
      'dry-run.authorize',
      'dry-run.iss',
    ])
      assert.equal(finding(report, id).status, 'pass', id);
    assert.deepEqual(
      report.profiles.map((p) => [p.id, p.status]),
      ['claude-code', 'claude-desktop', 'vscode', 'cursor', 'inspector', 'sdk-v1', 'sdk-v2'].map((id) => [
        id,
        'ok',
      ]),
    );
    // The dry run's one registered client is real, named as the doctor's, and the report names it.
    const note = report.notes.find((n) => n.includes('registered one client'));
    assert.ok(note, 'a note about the registered client');
    const clientId = /sekisho clients remove (\S+)/.exec(note)?.[1] ?? '';
    const rows = await srv.sekisho.storage.list('Client', { clientId });
    assert.equal(rows.length, 1);
    assert.match(JSON.stringify(rows[0]), /sekisho doctor \(dry run; safe to remove\)/);
  });

  it('exits 0 with --json for CI, the report parseable; --skip-dry-run registers nothing', async () => {
    const result = await cli(['doctor', srv.mcpUrl, '--json', '--skip-dry-run']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as DoctorReport;
    assert.equal(report.summary.fail, 0);
    assert.equal(finding(report, 'dry-run.register').status, 'skip');
    assert.equal(report.notes.length, 0);
  });

  it('runs through the installed bin: report on stdout, exit code from the checks', async () => {
    // Asynchronous spawn: the server under test runs in this process and must keep answering.
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'bin', 'sekisho.js'), 'doctor', srv.mcpUrl, '--skip-dry-run'],
      { env: { ...process.env, SEKISHO_CONFIG_FILE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^sekisho doctor http:\/\/localhost:\d+\/mcp$/m);
    assert.match(stdout, /0 failed, 0 warnings/);
  });

  it('prints a grouped human report with marks', async () => {
    const result = await cli(['doctor', srv.mcpUrl, '--skip-dry-run']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Discovery \(401 challenge, protected-resource metadata\)$/m);
    assert.match(result.stdout, /^ {2}✔ Metadata issuer equals the advertised issuer/m);
    assert.match(
      result.stdout,
      /^ {2}✔ Claude Code, Claude Desktop \(mcp-remote 0\.15\), VS Code, Cursor, MCP Inspector 2\.12 \(web\), TypeScript SDK v1 client, TypeScript SDK v2 client$/m,
    );
    assert.match(result.stdout, /0 failed, 0 warnings, \d+ passed, 1 skipped/);
  });

  it('behind a proxy whose address is not the base URL: challenge, PRM resource and resource indicator fail, fix names SEKISHO_BASE_URL', async () => {
    const proxy: TcpProxy = await startTcpProxy({ host: '127.0.0.1', port: srv.port });
    try {
      const url = `http://127.0.0.1:${proxy.port}/mcp`;
      const report = await runDoctor(url, { timeoutMs: TIMEOUT_MS });
      assert.deepEqual(ids(report, 'fail'), [
        'dry-run.authorize',
        'mcp.challenge-origin',
        'prm.resource.path',
        'prm.resource.root',
      ]);
      const fix = `SEKISHO_BASE_URL=http://127.0.0.1:${proxy.port}`;
      for (const id of ['mcp.challenge-origin', 'prm.resource.path', 'dry-run.authorize'])
        assert.ok(
          finding(report, id).fix?.includes(id === 'dry-run.authorize' ? 'SEKISHO_BASE_URL' : fix),
          id,
        );
      assert.match(finding(report, 'dry-run.authorize').title, /invalid_target/);
      assert.match(
        finding(report, 'prm.resource.path').detail ?? '',
        new RegExp(`resource ${srv.mcpUrl} ≠ ${url}`),
      );
      for (const profile of report.profiles) assert.equal(profile.status, 'broken', profile.id);
      const result = await cli(['doctor', url, '--skip-dry-run']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /doctor: 3 checks failed/);
      assert.match(result.stdout, /how to fix: Set SEKISHO_BASE_URL=http:\/\/127\.0\.0\.1:\d+ /);
    } finally {
      await proxy.close();
    }
  });

  it('reached under a host name Sekisho does not allow: the Host check fails and names SEKISHO_ALLOWED_HOSTS', async () => {
    // *.localhost is loopback (http is fine there) but not among Sekisho's default allowed hosts.
    const url = `http://sekisho.localhost:${srv.port}/mcp`;
    const report = await runDoctor(url, {
      timeoutMs: TIMEOUT_MS,
      connectTo: [{ host: 'sekisho.localhost', port: '', toHost: '127.0.0.1', toPort: '' }],
    });
    assert.deepEqual(ids(report, 'fail'), ['transport.host']);
    const host = finding(report, 'transport.host');
    assert.match(host.title, /Host sekisho\.localhost:\d+ refused \(HTTP 403\)/);
    assert.match(host.fix ?? '', /Add sekisho\.localhost to SEKISHO_ALLOWED_HOSTS/);
    assert.ok(
      report.profiles.every((p) => p.status === 'broken' && p.blockers[0]?.finding === 'transport.host'),
    );
  });
});

describe('doctor against Sekisho on a public name over plain http', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ SEKISHO_BASE_URL: 'http://mcp.example.test' });
  });
  after(() => srv?.close());

  it('fails HTTPS, the http issuer and endpoints, and the sign-in redirects; the rest is in order', async () => {
    const report = await runDoctor('http://mcp.example.test/mcp', {
      timeoutMs: TIMEOUT_MS,
      connectTo: [{ host: 'mcp.example.test', port: '80', toHost: '127.0.0.1', toPort: String(srv.port) }],
    });
    assert.deepEqual(ids(report, 'fail'), [
      'as.endpoints',
      'dry-run.authorize',
      'prm.authorization-servers',
      'transport.https',
    ]);
    for (const id of ['transport.https', 'prm.authorization-servers', 'as.endpoints', 'dry-run.authorize'])
      assert.match(finding(report, id).fix ?? '', /SEKISHO_BASE_URL/, id);
    assert.match(
      finding(report, 'transport.https').title,
      /Plain http on a public name \(mcp\.example\.test\)/,
    );
    assert.match(
      finding(report, 'transport.https').fix ?? '',
      /SEKISHO_BASE_URL=https:\/\/mcp\.example\.test/,
    );
    assert.match(
      finding(report, 'dry-run.authorize').detail ?? '',
      /redirect to plain http on a public host/,
    );
    assert.equal(finding(report, 'prm.resource.path').status, 'pass');
    assert.equal(finding(report, 'as.issuer').status, 'pass');
    const desktop = report.profiles.find((p) => p.id === 'claude-desktop');
    assert.equal(desktop?.status, 'broken');
    assert.equal(desktop?.blockers[0]?.finding, 'transport.https');
    assert.equal(desktop?.blockers[0]?.why, 'refuses plain http outside loopback');
  });
});

describe('doctor against Sekisho in demo mode (anonymous access)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ SEKISHO_DEMO: '1' });
  });
  after(() => srv?.close());

  it('warns that /mcp answers without a token; exit 0, but 1 with --strict', async () => {
    const lenient = await cli(['doctor', srv.mcpUrl, '--json', '--skip-dry-run']);
    assert.equal(lenient.code, 0, lenient.stderr);
    const report = JSON.parse(lenient.stdout) as DoctorReport;
    assert.deepEqual(ids(report, 'warn'), ['mcp.challenge']);
    assert.match(finding(report, 'mcp.challenge').fix ?? '', /SEKISHO_ANONYMOUS=0/);
    // Discovery still works through the well-known URLs.
    assert.equal(finding(report, 'prm.path').status, 'pass');
    assert.equal(finding(report, 'as.issuer').status, 'pass');
    const strict = await cli(['doctor', srv.mcpUrl, '--strict', '--skip-dry-run']);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /doctor: 1 warning \(--strict\)/);
  });
});
