/**
 * Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned) against a URL
 * and reads its per-scenario results. The CLI needs Node >= 22 (it imports fs.globSync), so it runs
 * through `npx -p node@22`, which takes Node 22 from the npm registry; `.ci/run` pre-warms the same
 * packages so a CI test run never waits for the download.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SuiteSpec {
  readonly label: string;
  /** npm spec of the suite; keep in step with the pre-warm in .ci/run. */
  readonly pkg: string;
  readonly extraArgs: readonly string[];
  /** The expected-failures (baseline) file, relative to the repository root. */
  readonly expectedFailures: string;
  /** A run that exercised fewer scenarios than this is broken, whatever it reports. */
  readonly minScenarios: number;
}

export const SUITES: readonly SuiteSpec[] = [
  {
    label: 'conformance 0.1.16 (active suite, 2025-era clients)',
    pkg: '@modelcontextprotocol/conformance@0.1.16',
    extraArgs: [],
    expectedFailures: 'test/conformance/expected-failures.yaml',
    minScenarios: 30,
  },
  {
    label: 'conformance 0.2.0-alpha.12 (--requirements 2026-07-28)',
    pkg: '@modelcontextprotocol/conformance@0.2.0-alpha.12',
    extraArgs: ['--requirements', '2026-07-28'],
    expectedFailures: 'test/conformance/expected-failures-2026-07-28.yaml',
    minScenarios: 40,
  },
];

export interface ScenarioResult {
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
}

export interface SuiteRun {
  readonly exitCode: number | null;
  readonly output: string;
  /** Per scenario, from the checks.json files the suite writes with `-o`. */
  readonly scenarios: ReadonlyMap<string, ScenarioResult>;
  /** The suite's own "Total: P passed, F failed" (checks), if printed. */
  readonly total: { passed: number; failed: number } | undefined;
}

export function runSuite(
  spec: SuiteSpec,
  mcpUrl: string,
  outDir: string,
  timeoutMs: number,
): Promise<SuiteRun> {
  const args = [
    '-y',
    '-p',
    'node@22',
    '-p',
    spec.pkg,
    'conformance',
    'server',
    '--url',
    mcpUrl,
    '--expected-failures',
    spec.expectedFailures,
    '-o',
    outDir,
    ...spec.extraArgs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('npx', args, {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      const total = /Total: (\d+) passed, (\d+) failed/.exec(output);
      resolve({
        exitCode,
        output,
        scenarios: readScenarios(outDir),
        total: total ? { passed: Number(total[1]), failed: Number(total[2]) } : undefined,
      });
    });
  });
}

/** `<outDir>/server-<scenario>-<ISO timestamp>/checks.json` → per-scenario counts. */
function readScenarios(outDir: string): Map<string, ScenarioResult> {
  const results = new Map<string, ScenarioResult>();
  if (!existsSync(outDir)) return results;
  for (const entry of readdirSync(outDir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    const file = join(outDir, entry, 'checks.json');
    if (!m?.[1] || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8')) as { status: string }[];
    results.set(m[1], {
      passed: checks.filter((c) => c.status === 'SUCCESS').length,
      failed: checks.filter((c) => c.status === 'FAILURE').length,
      warnings: checks.filter((c) => c.status === 'WARNING').length,
    });
  }
  return results;
}

export interface ExpectedEntry {
  readonly name: string;
  readonly reason: string;
}

/**
 * Reads the `server:` list of an expected-failures file. Only the shape we write is accepted:
 * `  - <scenario> # <one-line reason>`; anything else under `server:` is an error.
 */
export function readExpectedFailures(path: string): ExpectedEntry[] {
  const entries: ExpectedEntry[] = [];
  let inServer = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\S/.test(line)) {
      inServer = /^server:\s*$/.test(line) || (line.startsWith('#') && inServer);
      continue;
    }
    if (!inServer || line.trim() === '' || line.trim().startsWith('#')) continue;
    const m = /^\s+-\s+([A-Za-z0-9_./:-]+)\s*(?:#\s*(.*))?$/.exec(line);
    if (!m?.[1]) throw new Error(`${path}: cannot read line ${JSON.stringify(line)}`);
    entries.push({ name: m[1], reason: (m[2] ?? '').trim() });
  }
  return entries;
}
