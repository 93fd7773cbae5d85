/**
 * The issue's goals, evaluated against a report. Goals are measured here and reported, never
 * asserted in tests: a slower machine must not turn the test suite red.
 */
import type { BenchReport, ScenarioResult } from '../harness.ts';
import { median } from '../lib/stats.ts';
import { fmtInt, fmtMB, fmtMs, fmtPct, fmtRatio } from './format.ts';

export interface GoalRow {
  readonly goal: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

export const byId = (report: BenchReport, id: string): ScenarioResult | undefined =>
  report.scenarios.find((s) => s.id === id);

export function ratios(report: BenchReport): { cOverB?: number; cOverA?: number; dOverBLegacy?: number } {
  const a = byId(report, 'a')?.rps;
  const b = byId(report, 'b')?.rps;
  const bl = byId(report, 'b-legacy')?.rps;
  const c = byId(report, 'c')?.rps;
  const d = byId(report, 'd')?.rps;
  return {
    ...(c !== undefined && b !== undefined && { cOverB: c / b }),
    ...(c !== undefined && a !== undefined && { cOverA: c / a }),
    ...(d !== undefined && bl !== undefined && { dOverBLegacy: d / bl }),
  };
}

/** Sekisho's refresh grant beside plain oidc-provider's, when both ran. */
export function refreshVersusPlain(
  report: BenchReport,
): { sekisho: ScenarioResult; plain: ScenarioResult; ratio: number; cpuRatio: number } | undefined {
  const sekisho = byId(report, 'f-refresh');
  const plain = byId(report, 'f-refresh-ref');
  if (!sekisho || !plain) return undefined;
  return {
    sekisho,
    plain,
    ratio: sekisho.rps / plain.rps,
    cpuRatio: sekisho.serverCpuUs / plain.serverCpuUs,
  };
}

export function goals(report: BenchReport): GoalRow[] {
  const rows: GoalRow[] = [];
  const r = ratios(report);
  const c = byId(report, 'c');
  const auth = report.authenticated ? '' : ' (anonymous)';
  if (r.cOverB !== undefined) {
    rows.push({
      goal: `(c) / (b)${auth}`,
      target: '≥ 10×',
      measured: fmtRatio(r.cOverB),
      met: r.cOverB >= 10,
    });
  }
  if (r.cOverA !== undefined) {
    rows.push({
      goal: `(c) / (a)${auth}`,
      target: '≥ 35 %',
      measured: fmtPct(r.cOverA),
      met: r.cOverA >= 0.35,
    });
  }
  const a = byId(report, 'a');
  if (c && a) {
    const times = c.p99Ms / a.p99Ms;
    rows.push({
      goal: `p99 (c) / p99 (a) at ${report.options.connections} connections`,
      target: '≤ 4×',
      measured: `${fmtRatio(times)} (${fmtMs(c.p99Ms)} / ${fmtMs(a.p99Ms)} ms)`,
      met: times <= 4,
    });
  }
  const refresh = refreshVersusPlain(report);
  if (refresh) {
    const failed = refresh.sekisho.failures + refresh.plain.failures;
    rows.push({
      goal: `refresh grants, Sekisho / plain oidc-provider (${refresh.sekisho.connections} chains)`,
      target: '≥ 85 %',
      measured: `${fmtPct(refresh.ratio)} (${fmtInt(refresh.sekisho.rps)} / ${fmtInt(refresh.plain.rps)}/s)${failed ? ` (${failed} failed)` : ''}`,
      met: refresh.ratio >= 0.85 && failed === 0,
    });
  }
  const pgRedis = byId(report, 'c-pg-redis');
  if (c && pgRedis) {
    const ratio = pgRedis.rps / c.rps;
    rows.push({
      goal: '(c) on PostgreSQL + Redis / (c) on SQLite',
      target: '≥ 80 %',
      measured: `${fmtPct(ratio)}${pgRedis.failures ? ` (${pgRedis.failures} failed)` : ''}`,
      met: ratio >= 0.8 && pgRedis.failures === 0,
    });
  }
  // Idle RSS of what `npm start` runs (the compiled entry, from the cold-start runs) when measured;
  // otherwise the memory scenario's child, which runs under the tsx loader and so reads higher.
  const startRss = report.coldStart?.restart
    .map((x) => x.rssBytes)
    .filter((x): x is number => x !== undefined);
  if (startRss?.length) {
    const rss = median(startRss);
    rows.push({
      goal: 'idle RSS (`npm start`)',
      target: '≤ 100 MB',
      measured: fmtMB(rss),
      met: rss <= 100e6,
    });
  } else if (report.memory) {
    const rss = report.memory.idle.rss;
    rows.push({ goal: 'idle RSS (tsx child)', target: '≤ 100 MB', measured: fmtMB(rss), met: rss <= 100e6 });
  }
  if (report.storm) {
    const { ratioP99, quiet, storm } = report.storm;
    rows.push({
      goal: `login storm: tools/call p99 during ${report.storm.signers} sign-ins / alone`,
      target: '≤ 5×',
      measured: `${fmtRatio(ratioP99)} (${fmtMs(storm.p99)} / ${fmtMs(quiet.p99)} ms)`,
      met: ratioP99 <= 5 && quiet.failures + storm.failures === 0,
    });
  }
  if (report.soak) {
    const growth = report.soak.growthByMediansPct;
    rows.push({
      goal: `soak (${Math.round(report.soak.durationSeconds / 60)} min): RSS growth minute 2 → last, by medians`,
      target: '< +10 %',
      measured: growth === undefined ? 'run ≥ 3 min' : `${growth > 0 ? '+' : ''}${growth} %`,
      met: growth === undefined ? undefined : growth < 10 && report.soak.failedRequests === 0,
    });
  }
  if (report.coldStart) {
    const ms = median(report.coldStart.restart.map((x) => x.readyMs));
    rows.push({
      goal: 'cold start (spawn → /readyz 200)',
      target: '≤ 1 s',
      measured: `${fmtInt(ms)} ms`,
      met: ms <= 1000,
    });
  }
  return rows;
}
