/**
 * Issue #4 acceptance: the official MCP conformance server suite still passes with authorization on.
 * Sekisho runs with anonymous access OFF (every /mcp request needs a token). The suite knows nothing
 * about OAuth, so it talks to a small loopback proxy that adds `Authorization: Bearer <token>` to
 * every request; the token is a real one minted by our authorization server for a real user
 * (`issueAccessToken`), and passes the same gate as any client's. There is no bypass in the server:
 * the proxy is test code, and the test first proves a request without it gets 401.
 *
 * Same suites and expected-failures files as test/conformance (which runs the suite anonymously).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readExpectedFailures, runSuite, SUITES } from '../conformance/suite.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const RUN_TIMEOUT_MS = 8 * 60_000;

let srv: TestServer;
let proxy: Server;
let proxyUrl: string;
const outRoot = mkdtempSync(join(tmpdir(), 'sekisho-conformance-auth-'));

/** Forwards everything unchanged (Host and Origin too, so the DNS-rebinding checks still bite) + the token. */
function bearerProxy(targetPort: number, token: string): Server {
  return createServer((req: IncomingMessage, res) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
}

before(async () => {
  srv = await startTestServer({
    SEKISHO_PROFILE: 'conformance',
    SEKISHO_ANONYMOUS: '0',
    // Outlive the suite's run (the proxy does not refresh).
    SEKISHO_ACCESS_TOKEN_TTL_SECONDS: '3600',
  });
  const user = await srv.sekisho.identity.addUser({
    username: 'conformance',
    password: 'conformance-suite-password-1',
    role: 'user',
  });
  const { accessToken } = await srv.sekisho.authorizationServer!.issueAccessToken({ accountId: user.id });
  proxy = bearerProxy(srv.port, accessToken);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
});
after(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await srv?.close();
  rmSync(outRoot, { recursive: true, force: true });
});

const ping = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } },
});
const post = (url: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: ping,
  });

describe('official MCP conformance suite with authorization on (through a bearer-injecting proxy)', () => {
  it('needs the token: 401 directly, 200 through the proxy', async () => {
    assert.equal((await post(`${srv.loopbackUrl}/mcp`)).status, 401);
    assert.equal((await post(proxyUrl)).status, 200);
  });

  for (const [index, suite] of SUITES.entries()) {
    it(suite.label, { timeout: RUN_TIMEOUT_MS + 60_000 }, async (t) => {
      const expected = readExpectedFailures(suite.expectedFailures);
      const run = await runSuite(suite, proxyUrl, join(outRoot, String(index)), RUN_TIMEOUT_MS);
      const tail = run.output.split('\n').slice(-40).join('\n');
      const failing = [...run.scenarios]
        .filter(([, r]) => r.failed > 0 || r.warnings > 0)
        .map(([name]) => name)
        .sort();
      t.diagnostic(
        `${suite.label} (authorized): ${run.scenarios.size} scenarios, ${run.scenarios.size - failing.length} passed; ` +
          `checks ${run.total?.passed ?? '?'} passed, ${run.total?.failed ?? '?'} failed`,
      );
      assert.ok(
        run.scenarios.size >= suite.minScenarios,
        `only ${run.scenarios.size} scenarios ran:\n${tail}`,
      );
      const unexpected = failing.filter((name) => !expected.some((e) => e.name === name));
      assert.deepEqual(unexpected, [], `unexpected failures with auth on:\n${tail}`);
      assert.equal(run.exitCode, 0, `the suite's own baseline check failed:\n${tail}`);
    });
  }
});
