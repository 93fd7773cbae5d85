/**
 * Issue 15's goals, evaluated from a report (no servers: made-up numbers, so each goal's edge is
 * tested exactly), and the sections the markdown adds for the refresh reference, the cluster, the
 * soak and the login storm.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchReport, ScenarioResult } from '../../bench/harness.ts';
import { type GoalRow, goals } from '../../bench/report/goals.ts';
import { renderMarkdown } from '../../bench/report/markdown.ts';
import type { SoakReport } from '../../bench/soak.ts';
import type { StormReport } from '../../bench/storm.ts';

const scenario = (id: string, rps: number, p99Ms = 5, connections = 32): ScenarioResult => ({
  id,
  label: `scenario ${id}`,
  connections,
  rounds: [
    {
      requests: rps,
      rps,
      p50Ms: p99Ms / 2,
      p99Ms,
      errors: 0,
      non2xx: 0,
      durationSec: 1,
      serverCpuUs: 100,
      clientCpuUs: 50,
    },
  ],
  rps,
  p50Ms: p99Ms / 2,
  p99Ms,
  failures: 0,
  serverCpuUs: 1e6 / rps,
  clientCpuUs: 50,
});

function report(scenarios: ScenarioResult[], extra: Partial<BenchReport> = {}): BenchReport {
  return {
    machine: {
      date: '2026-12-02T12:00:00.000Z',
      cores: 2,
      cpuModel: 'test',
      memoryGiB: 4,
      node: process.version,
      platform: 'linux x64',
    },
    options: {
      rounds: 1,
      durationSec: 1,
      warmupSec: 0,
      connections: 32,
      tokensPerScenario: 1,
      memory: false,
      coldStartRounds: 0,
      loginSeconds: 0,
    },
    loadGenerator: 'test',
    authenticated: true,
    notes: [],
    scenarios,
    ...extra,
  } as BenchReport;
}

const row = (rows: GoalRow[], start: string): GoalRow => {
  const found = rows.find((r) => r.goal.startsWith(start));
  assert.ok(found, `goal row "${start}" in ${rows.map((r) => r.goal).join(' | ')}`);
  return found;
};

test('each goal is met exactly at its bound and missed just beyond it', () => {
  const at = goals(
    report([
      scenario('a', 10_000, 2),
      scenario('b', 350),
      scenario('c', 3_500, 8),
      scenario('c-pg-redis', 2_800),
      scenario('f-refresh', 850, 20, 16),
      scenario('f-refresh-ref', 1_000, 20, 16),
    ]),
  );
  assert.equal(row(at, '(c) / (b)').met, true);
  assert.equal(row(at, '(c) / (a)').met, true);
  assert.equal(row(at, 'p99 (c) / p99 (a)').met, true);
  assert.equal(row(at, 'refresh grants, Sekisho / plain oidc-provider (16 chains)').met, true);
  assert.equal(row(at, '(c) on PostgreSQL + Redis').met, true);

  const beyond = goals(
    report([
      scenario('a', 10_000, 2),
      scenario('b', 351),
      scenario('c', 3_499, 8.1),
      scenario('c-pg-redis', 2_799),
      scenario('f-refresh', 849, 20, 16),
      scenario('f-refresh-ref', 1_000, 20, 16),
    ]),
  );
  for (const g of [
    '(c) / (b)',
    '(c) / (a)',
    'p99 (c) / p99 (a)',
    'refresh grants',
    '(c) on PostgreSQL + Redis',
  ]) {
    assert.equal(row(beyond, g).met, false, g);
  }
});

test('a goal whose scenarios did not run is left out, not reported as met', () => {
  const rows = goals(report([scenario('c', 3_000)]));
  assert.deepEqual(
    rows.map((r) => r.goal),
    [],
  );
});

test('the report carries the refresh comparison, the cluster caveat, the storm and the soak', () => {
  const storm: StormReport = {
    signers: 50,
    seconds: 10,
    quiet: { count: 900, failures: 0, p50: 2, p99: 6, max: 9 },
    storm: { count: 900, failures: 0, p50: 4, p99: 15, max: 30 },
    ratioP99: 2.5,
    signIns: { ok: 60, busy: 10, other: 0, p50Ms: 1_700 },
  } as StormReport;
  const soak = {
    durationSeconds: 600,
    requests: 120_000,
    failedRequests: 0,
    signIns: 120,
    failedSignIns: 0,
    env: {},
    samples: [],
    minutes: [{ minute: 1, medianRssMiB: 180, lastRssMiB: 181, medianHeapUsedMiB: 40, medianExternalMiB: 5 }],
    growthByMediansPct: 12,
    growthPointToPointPct: 3,
  } as unknown as SoakReport;
  const full = report(
    [
      scenario('c', 3_000),
      scenario('c-nginx', 1_500),
      scenario('f-refresh', 700, 20, 16),
      scenario('f-refresh-ref', 1_000, 20, 16),
    ],
    { storm, soak },
  );
  const md = renderMarkdown(full);
  assert.match(md, /\| Sekisho \/ plain \| 70\.0 % \|/);
  assert.match(md, /scenario f-refresh, 16 connections/);
  assert.match(md, /not scaling/);
  assert.match(md, /Login storm: /);
  assert.match(md, /Soak: 600 s/);
  assert.ok(!md.includes('Not in this run'));
  const rows = goals(full);
  assert.equal(row(rows, 'login storm').met, true);
  assert.equal(row(rows, 'soak').met, false, '+12 % is growth');

  const bare = renderMarkdown(report([scenario('c', 3_000)]));
  assert.match(bare, /Not in this run: `--with-storm=50` \(login storm\) and `--with-soak=10m` \(soak\)/);
  assert.ok(!bare.includes('not scaling'));
});
