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
  if (c) {
    rows.push({
      goal: `(c) p99 at ${report.options.connections} connections`,
      target: '≤ 10 ms',
      measured: `${fmtMs(c.p99Ms)} ms`,
      met: c.p99Ms <= 10,
    });
  }
  const refresh = byId(report, 'f-refresh');
  if (refresh) {
    rows.push({
      goal: 'refresh grants (SQLite)',
      target: '≥ 1,500/s',
      measured: `${fmtInt(refresh.rps)}/s${refresh.failures ? ` (${refresh.failures} failed)` : ''}`,
      met: refresh.rps >= 1500 && refresh.failures === 0,
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
