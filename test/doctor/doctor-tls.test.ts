/**
 * `sekisho doctor` against Sekisho as it runs in production: behind a TLS terminator on a public
 * name (https://mcp.example.test), reached on 127.0.0.1 through --connect-to, the certificate
 * trusted through --cacert. Everything passes, https included; without --cacert the doctor refuses
 * the untrusted certificate and says so. Needs openssl to make the certificate (skips, loudly, when
 * absent; must run under CI=true).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import type { DoctorReport } from '../../src/doctor/index.ts';
import { runCliCaptured } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const NAME = 'mcp.example.test';
const dir = mkdtempSync(join(tmpdir(), 'sekisho-doctor-tls-'));
const made = spawnSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${NAME}`,
    '-addext',
    `subjectAltName=DNS:${NAME}`,
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ],
  { encoding: 'utf8', timeout: 30_000 },
);
const noOpenssl =
  made.status !== 0
    ? `openssl could not make a certificate (${made.error?.message ?? made.stderr.trim()})`
    : undefined;
if (noOpenssl) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${noOpenssl}`);
  console.warn(`\n*** SKIPPING doctor TLS tests: ${noOpenssl} ***\n`);
}

const cli = (args: string[]) => runCliCaptured(args);

describe('doctor against Sekisho behind a TLS terminator', { skip: noOpenssl }, () => {
  let srv: TestServer;
  let tls: Server;
  let tlsPort = 0;
  const sockets = new Set<Socket>();
  before(async () => {
    srv = await startTestServer({ SEKISHO_BASE_URL: `https://${NAME}` });
    // TLS terminated here, bytes passed to Sekisho unchanged (as a TCP-mode load balancer does).
    tls = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (client) => {
        const upstream = connect(srv.port, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => s.destroy());
          s.once('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      },
    );
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    tlsPort = (tls.address() as { port: number }).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (tls ? tls.close(() => resolve()) : resolve()));
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every check and client over https with the certificate trusted', async () => {
    const result = await cli([
      'doctor',
      `https://${NAME}/mcp`,
      '--json',
      '--strict',
      '--connect-to',
      `${NAME}:443:127.0.0.1:${tlsPort}`,
      '--cacert',
      join(dir, 'cert.pem'),
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as DoctorReport;
    assert.deepEqual(report.summary, { ...report.summary, fail: 0, warn: 0, skip: 0 });
    assert.equal(report.findings.find((f) => f.id === 'transport.https')?.title, 'HTTPS');
    assert.equal(report.findings.find((f) => f.id === 'dry-run.authorize')?.status, 'pass');
    assert.ok(report.profiles.every((p) => p.status === 'ok'));
  });

  it('refuses an untrusted certificate and says what to fix', async () => {
    const result = await cli([
      'doctor',
      `https://${NAME}/mcp`,
      '--json',
      '--skip-dry-run',
      '--connect-to',
      `${NAME}:443:127.0.0.1:${tlsPort}`,
    ]);
    assert.equal(result.code, 1);
    const report = JSON.parse(result.stdout) as DoctorReport;
    const reachable = report.findings.find((f) => f.id === 'mcp.reachable');
    assert.equal(reachable?.status, 'fail');
    assert.match(reachable?.detail ?? '', /TLS failed: .*SELF_SIGNED/);
    assert.match(reachable?.fix ?? '', /certificate clients trust/);
  });
});
