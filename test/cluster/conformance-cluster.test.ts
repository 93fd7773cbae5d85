/**
 * Issue #12 acceptance, part 6: the official MCP conformance suites (both pinned versions, as in
 * test/conformance/) through the three-instance setup — three `src/main.ts` in the conformance
 * profile behind nginx round robin, one PostgreSQL, one Redis — so every request of a scenario may
 * land on another instance: an `input_required` retry, a `subscriptions/listen` stream and the
 * trigger that should reach it, a 2025-era session's requests. Each run must match its
 * cluster-specific expected-failures file exactly (no unexpected failure, no stale entry).
 *
 * One cluster serves both runs. Needs nginx, PostgreSQL and Redis: skips loudly without them, fails
 * under CI=true.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readExpectedFailures, runSuite, SUITES, type SuiteSpec } from '../conformance/suite.ts';
import { type Cluster, clusterUnavailable, startCluster } from './support/cluster.ts';

const skip = await clusterUnavailable();
const RUN_TIMEOUT_MS = 10 * 60_000;

/** The same suites, each checked against its through-the-cluster expected-failures file. */
const CLUSTER_SUITES: readonly SuiteSpec[] = SUITES.map((suite) => ({
  ...suite,
  label: `${suite.label}, through 3 instances`,
  expectedFailures: suite.expectedFailures.replace(
    /^test\/conformance\/expected-failures/,
    'test/cluster/conformance-expected-failures',
  ),
}));

let cluster: Cluster;
const outRoot = mkdtempSync(join(tmpdir(), 'sekisho-conformance-cluster-'));
before(async () => {
  if (skip) return;
  cluster = await startCluster('conf', { SEKISHO_PROFILE: 'conformance', SEKISHO_ANONYMOUS: '1' });
});
after(async () => {
  await cluster?.close();
  rmSync(outRoot, { recursive: true, force: true });
});

describe('official MCP conformance suite through three instances behind nginx', { skip }, () => {
  for (const [index, suite] of CLUSTER_SUITES.entries()) {
    it(suite.label, { timeout: RUN_TIMEOUT_MS + 60_000 }, async (t) => {
      const expected = readExpectedFailures(suite.expectedFailures);
      for (const entry of expected) {
        assert.ok(
          entry.reason.length >= 10,
          `${suite.expectedFailures}: '${entry.name}' needs a one-line reason`,
        );
      }
      const before = cluster.proxy.accessLog().length;
      const run = await runSuite(suite, `${cluster.base}/mcp`, join(outRoot, String(index)), RUN_TIMEOUT_MS);
      const tail = run.output.split('\n').slice(-40).join('\n');
      const failing = [...run.scenarios]
        .filter(([, r]) => r.failed > 0 || r.warnings > 0)
        .map(([name]) => name)
        .sort();
      // The run really was spread: every instance answered part of it.
      const upstreams = new Set(
        cluster.proxy
          .accessLog()
          .slice(before)
          .map((line) => line.upstream),
      );
      t.diagnostic(
        `${suite.label}: ${run.scenarios.size} scenarios, ${run.scenarios.size - failing.length} passed, ` +
          `${failing.length} failed (${failing.join(', ') || 'none'}); checks: ${run.total?.passed ?? '?'} ` +
          `passed, ${run.total?.failed ?? '?'} failed; upstreams: ${[...upstreams].join(' ')}`,
      );
      assert.equal(upstreams.size, 3, `all three instances served the run: ${[...upstreams].join(' ')}`);
      assert.ok(
        run.scenarios.size >= suite.minScenarios,
        `only ${run.scenarios.size} scenarios ran (expected at least ${suite.minScenarios}):\n${tail}`,
      );
      const unexpected = failing.filter((name) => !expected.some((e) => e.name === name));
      assert.deepEqual(unexpected, [], `unexpected failures:\n${tail}\n${cluster.logs().slice(-4000)}`);
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
