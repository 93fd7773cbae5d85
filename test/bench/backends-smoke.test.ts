/**
 * The cluster-backend scenarios of `npm run bench`, run for a fraction of a second each: Sekisho on
 * PostgreSQL (c-pg), on PostgreSQL + Redis (c-pg-redis, e-pg-redis, f-refresh-pg-redis) and three
 * instances behind nginx (c-nginx). Each scenario's check runs first (a real authenticated answer; for the cluster, one from
 * every instance), so a pass means every row was measured on 2xx answers that were checked. Numbers
 * are never asserted: they belong to the machine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBench } from '../../bench/harness.ts';
import { goals } from '../../bench/report/goals.ts';
import { nginxUnavailable } from '../cluster/support/nginx.ts';
import { postgresUnavailable } from '../helpers/postgres.ts';
import { redisUnavailable } from '../helpers/redis.ts';

const missing = (await postgresUnavailable()) ?? (await redisUnavailable()) ?? nginxUnavailable();
const SCENARIOS = ['c', 'c-pg', 'c-pg-redis', 'c-nginx', 'e-pg-redis', 'f-refresh-pg-redis'];

test('PostgreSQL + Redis and three instances behind nginx: every scenario measured on checked answers', {
  skip: missing,
  timeout: 600_000, // seconds on an idle machine; five servers start at once, so minutes on a loaded one
}, async () => {
  const report = await runBench({
    rounds: 1,
    durationSec: 0.5,
    warmupSec: 0,
    connections: 4,
    refreshChains: 2,
    only: SCENARIOS,
    tokensPerScenario: 3,
    memory: false,
    coldStartRounds: 0,
    loginSeconds: 0,
  });
  assert.deepEqual(report.notes, [], 'nothing skipped');
  assert.ok(report.authenticated, 'ran with real tokens');
  assert.deepEqual(
    report.scenarios.map((s) => s.id),
    SCENARIOS,
  );
  for (const s of report.scenarios) {
    assert.equal(s.failures, 0, `${s.id} had failed requests`);
    assert.ok(s.rps > 0 && s.rounds[0]!.requests > 0, `${s.id} answered nothing`);
    assert.ok(Number.isFinite(s.serverCpuUs) && s.serverCpuUs > 0, `${s.id} server CPU`);
  }
  const goal = goals(report).find((g) => g.goal.startsWith('(c) on PostgreSQL + Redis'));
  assert.equal(goal?.target, '≥ 80 %');
});
