/**
 * Issue #2 acceptance: the official MCP conformance suite, pinned, against a real Sekisho in the
 * conformance profile on an ephemeral loopback port. Each run must pass against its
 * expected-failures file, and that file must be exact: every failing scenario listed with a reason,
 * and no listed scenario passing (stale) or absent from the run. The suite itself flags unexpected
 * failures and stale entries of scenarios it ran; we check the rest from its checks.json output.
 *
 * It never skips: CI pre-warms the npx cache (.ci/run), and a missing network is a failure here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { readExpectedFailures, runSuite, SUITES } from './suite.ts';

// The first run may download Node 22 and the suite (~15 s on a warm registry); be generous.
const RUN_TIMEOUT_MS = 8 * 60_000;

let srv: TestServer;
const outRoot = mkdtempSync(join(tmpdir(), 'sekisho-conformance-'));
before(async () => {
  srv = await startTestServer({ SEKISHO_PROFILE: 'conformance', SEKISHO_ANONYMOUS: '1' });
});
after(async () => {
  await srv?.close();
  rmSync(outRoot, { recursive: true, force: true });
});

describe('official MCP conformance suite', () => {
  for (const [index, suite] of SUITES.entries()) {
    it(suite.label, { timeout: RUN_TIMEOUT_MS + 60_000 }, async (t) => {
      const expected = readExpectedFailures(suite.expectedFailures);
      for (const entry of expected) {
        assert.ok(
          entry.reason.length >= 10,
          `${suite.expectedFailures}: '${entry.name}' needs a one-line reason`,
        );
      }
      // dns-rebinding-protection only counts when the URL is a loopback address.
      const run = await runSuite(
        suite,
        `${srv.loopbackUrl}/mcp`,
        join(outRoot, String(index)),
        RUN_TIMEOUT_MS,
      );
      const tail = run.output.split('\n').slice(-40).join('\n');

      const failing = [...run.scenarios]
        .filter(([, r]) => r.failed > 0 || r.warnings > 0)
        .map(([name]) => name)
        .sort();
      const passing = [...run.scenarios].filter(([, r]) => r.failed === 0 && r.warnings === 0);
      t.diagnostic(
        `${suite.label}: ${run.scenarios.size} scenarios, ${passing.length} passed, ${failing.length} failed ` +
          `(all expected: ${failing.join(', ') || 'none'}); checks: ${run.total?.passed ?? '?'} passed, ` +
          `${run.total?.failed ?? '?'} failed`,
      );

      assert.ok(
        run.scenarios.size >= suite.minScenarios,
        `only ${run.scenarios.size} scenarios ran (expected at least ${suite.minScenarios}):\n${tail}`,
      );
      const unexpected = failing.filter((name) => !expected.some((e) => e.name === name));
      assert.deepEqual(unexpected, [], `unexpected failures:\n${tail}`);
      const stale = expected.map((e) => e.name).filter((name) => !failing.includes(name));
      assert.deepEqual(
        stale,
        [],
        `stale expected-failures entries (passing or not run) in ${suite.expectedFailures}`,
      );
      assert.equal(run.exitCode, 0, `the suite's own baseline check failed:\n${tail}`);
    });
  }
});
