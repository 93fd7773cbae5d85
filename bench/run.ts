/**
 * `npm run bench` — one full run: throughput rounds, memory, cold start; prints the markdown
 * report and writes docs/benchmarks.md (generated block), docs/benchmarks.svg and the raw JSON in
 * bench/results/. Flags: --rounds N --duration S --warmup S --connections N
 * --refresh-chains N (concurrent refresh chains of f-refresh / f-refresh-ref, default 16) --only a,b,c
 * --tokens N (distinct tokens per authenticated scenario) --memory-tokens N --cold-start N
 * --profile (CPU profiles of the Sekisho child, and of every other server beside it, over the measured
 * rounds, to bench/results/) --no-docs
 * `--soak=10m` (any duration: 90s, 3m…) runs the soak instead (bench/soak.ts): RSS per minute under
 * steady authenticated traffic (`--soak-rps`, default 200/s) and a sign-in every 5 s.
 * `--storm=50` runs the login-storm scenario instead (bench/storm.ts): p99 of authenticated tools/call
 * alone and during 50 concurrent sign-ins, in one run (`--storm-seconds`, default 10).
 * `--with-soak=10m` / `--with-storm=50` run them after the throughput rounds of a normal run instead,
 * and put their tables and goals into the same report (not by default: the soak alone takes minutes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchOptions, type BenchReport, runBench } from './harness.ts';
import { renderMarkdown, writeMarkdown } from './report/markdown.ts';
import { renderSvg } from './report/svg.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    'refresh-chains': { type: 'string', default: '16' },
    only: { type: 'string' },
    tokens: { type: 'string', default: '1000' },
    'memory-tokens': { type: 'string', default: '10000' },
    'cold-start': { type: 'string', default: '5' },
    login: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    soak: { type: 'string' },
    'soak-rps': { type: 'string', default: '200' },
    storm: { type: 'string' },
    'with-soak': { type: 'string' },
    'with-storm': { type: 'string' },
    'storm-seconds': { type: 'string', default: '10' },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    'npm run bench -- [--rounds 3] [--duration 5] [--warmup 2] [--connections 32] [--refresh-chains 16]\n' +
      '                 [--only a,b,c,f-refresh,f-refresh-ref]\n' +
      '                 [--tokens 1000] [--memory-tokens 10000 | 0] [--cold-start 5 | 0] [--login 3 | 0]\n' +
      '                 [--profile] [--no-docs]\n' +
      '                 [--with-soak=10m] [--with-storm=50]   (also run them, into the same report)\n' +
      'npm run bench -- --soak=10m [--soak-rps 200]\n' +
      'npm run bench -- --storm=50 [--storm-seconds 10]',
  );
  process.exit(0);
}

const num = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number between ${min} and ${max}`);
    process.exit(2);
  }
  return n;
};

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });

const stormRun = (signers: string) =>
  import('./storm.ts').then(({ runStorm }) =>
    runStorm({
      signers: num('storm', signers, 1, 500),
      seconds: num('storm-seconds', values['storm-seconds'], 1, 300),
      log: (line) => console.error(line),
    }),
  );

const soakRun = async (duration: string) => {
  const { parseDuration, runSoak } = await import('./soak.ts');
  let durationMs: number;
  try {
    durationMs = parseDuration(duration);
  } catch (error) {
    console.error(`--soak: ${(error as Error).message}`);
    process.exit(2);
  }
  const env = Object.fromEntries(
    ['MALLOC_ARENA_MAX', 'SEKISHO_PASSWORD_HASH_CONCURRENCY', 'SEKISHO_FAST_LANE']
      .filter((k) => process.env[k] !== undefined)
      .map((k) => [k, process.env[k] as string]),
  );
  return runSoak({
    durationMs,
    requestsPerSecond: num('soak-rps', values['soak-rps'], 1, 5000),
    signInEverySeconds: 5,
    env,
    log: (line) => console.error(line),
  });
};

if (values.storm !== undefined) {
  const { renderStorm } = await import('./storm.ts');
  const storm = await stormRun(values.storm);
  console.log(`\n${renderStorm(storm)}\n`);
  const file = `${resultsDir}storm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(storm, null, 2)}\n`);
  console.error(`wrote ${file}`);
  process.exit(0);
}

if (values.soak !== undefined) {
  const { renderSoak } = await import('./soak.ts');
  const soak = await soakRun(values.soak);
  console.log(`\n${renderSoak(soak)}\n`);
  const file = `${resultsDir}soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(soak, null, 2)}\n`);
  console.error(`wrote ${file}`);
  process.exit(0);
}
const profilePath = `${resultsDir}sekisho-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
const memoryTokens = num('memory-tokens', values['memory-tokens'], 0, 100_000);
const opts: BenchOptions = {
  rounds: num('rounds', values.rounds, 1, 20),
  durationSec: num('duration', values.duration, 0.2, 120),
  warmupSec: num('warmup', values.warmup, 0, 60),
  connections: num('connections', values.connections, 1, 1024),
  refreshChains: num('refresh-chains', values['refresh-chains'], 1, 1024),
  tokensPerScenario: num('tokens', values.tokens, 1, 100_000),
  memory: memoryTokens > 0 ? { distinctTokens: memoryTokens } : false,
  coldStartRounds: num('cold-start', values['cold-start'], 0, 20),
  loginSeconds: num('login', values.login, 0, 60),
  ...(values.only && { only: values.only.split(',').map((s) => s.trim()) }),
  ...(values.profile && { profilePath }),
  log: (line) => console.error(line),
};

// Bad values for the runs that come last are refused now, not after the whole throughput run.
if (values['with-storm'] !== undefined) num('with-storm', values['with-storm'], 1, 500);
if (values['with-soak'] !== undefined) {
  const { parseDuration } = await import('./soak.ts');
  try {
    parseDuration(values['with-soak']);
  } catch (error) {
    console.error(`--with-soak: ${(error as Error).message}`);
    process.exit(2);
  }
}
const measured = await runBench(opts);
// After the throughput rounds, each on a fresh server of its own: neither disturbs the other rounds.
const storm = values['with-storm'] === undefined ? undefined : await stormRun(values['with-storm']);
const soak = values['with-soak'] === undefined ? undefined : await soakRun(values['with-soak']);
const report: BenchReport = { ...measured, ...(storm && { storm }), ...(soak && { soak }) };
const md = renderMarkdown(report);
console.log(`\n${md}\n`);
const stamp = report.machine.date.replace(/[:.]/g, '-');
writeFileSync(`${resultsDir}bench-${stamp}.json`, `${JSON.stringify(report, null, 2)}\n`);
if (!values['no-docs']) {
  const docs = fileURLToPath(new URL('../docs/', import.meta.url));
  mkdirSync(docs, { recursive: true });
  writeMarkdown(`${docs}benchmarks.md`, md);
  // The project formats markdown with biome (tables padded); format the generated file the same way
  // so a fresh run never leaves `npm test`'s lint step red.
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
  const formatted = spawnSync(biome, ['format', '--write', `${docs}benchmarks.md`], { stdio: 'ignore' });
  if (formatted.status !== 0) console.error('note: could not format docs/benchmarks.md with biome');
  writeFileSync(`${docs}benchmarks.svg`, renderSvg(report));
  console.error('wrote docs/benchmarks.md and docs/benchmarks.svg');
}

if (values.profile && existsSync(profilePath)) {
  const { summariseProfile, renderBreakdown } = await import('./lib/profile-summary.ts');
  const table = renderBreakdown(summariseProfile(profilePath));
  console.log(
    `\nCPU profile of the Sekisho child during the measured rounds (${profilePath}):\n\n${table}\n`,
  );
}
