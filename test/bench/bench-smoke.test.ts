/**
 * Keeps `npm run bench` working: a seconds-long run of the real harness (child processes,
 * autocannon, report writers) with tiny durations. It asserts that every scenario it ran has
 * numbers and that the writers render them — never the performance goals, which depend on the
 * machine and are reported by the full run instead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type BenchReport, runBench } from '../../bench/harness.ts';
import { BEGIN, END, renderMarkdown, scenarioLabel, writeMarkdown } from '../../bench/report/markdown.ts';
import { renderSvg } from '../../bench/report/svg.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// d: the 2025-06-18 stateless POST, which broke unnoticed once when sessions became the default;
// d-session: the same call inside a session (initialize first), what 2025-era clients meet by default.
const SCENARIOS = ['a', 'b', 'c', 'd', 'd-session', 'e'];
let report: BenchReport | undefined;

// A few seconds on an idle machine, but it starts a server per scenario as a child process: on a
// loaded 2-core CI machine that alone can pass a minute, so the bound is generous (a hang still fails).
test('a tiny benchmark run measures every scenario it ran', { timeout: 240_000 }, async () => {
  report = await runBench({
    rounds: 1,
    durationSec: 0.3,
    warmupSec: 0,
    connections: 4,
    only: SCENARIOS,
    tokensPerScenario: 3,
    memory: false,
    coldStartRounds: 0,
    loginSeconds: 0,
  });
  assert.deepEqual(
    report.scenarios.map((s) => s.id),
    SCENARIOS,
  );
  for (const s of report.scenarios) {
    assert.equal(s.rounds.length, 1, s.id);
    assert.equal(s.failures, 0, `${s.id} had failed requests`);
    assert.ok(s.rps > 0, `${s.id} req/s`);
    assert.ok(Number.isFinite(s.p50Ms) && s.p50Ms > 0, `${s.id} p50`);
    assert.ok(Number.isFinite(s.p99Ms) && s.p99Ms >= s.p50Ms, `${s.id} p99`);
  }
  assert.equal(report.machine.node, process.version);
});

/** The run above, or a clear failure naming it (rather than a TypeError deep in a report writer). */
function ranReport(): BenchReport {
  assert.ok(report, 'no report: the benchmark run in the test above failed or timed out (see its error)');
  return report;
}

test('the markdown and SVG reports carry the numbers', () => {
  const ran = ranReport();
  const md = renderMarkdown(ran);
  for (const s of ran.scenarios) {
    const label = scenarioLabel(s, ran.options.connections);
    const row = md.split('\n').find((l) => l.startsWith(`| ${s.id} | ${label} |`));
    assert.ok(row, `row for ${s.id}`);
    assert.match(row, /\| [\d,]+ \| [\d.]+ \| [\d.]+ \| [\d,]+ \|/);
  }
  assert.match(md, /\| \(c\) \/ \(b\)/);
  const svg = renderSvg(ran);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.equal(svg.match(/<rect /g)?.length, ran.scenarios.length + 1);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('re-writing docs keeps the hand-written text around the generated block', () => {
  const path = join(dir, 'benchmarks.md');
  writeFileSync(path, `# Title\n\nintro\n\n${BEGIN}\nold numbers\n${END}\n\n## Analysis\nkept\n`);
  writeMarkdown(path, 'new numbers');
  assert.equal(
    readFileSync(path, 'utf8'),
    `# Title\n\nintro\n\n${BEGIN}\nnew numbers\n${END}\n\n## Analysis\nkept\n`,
  );
});
