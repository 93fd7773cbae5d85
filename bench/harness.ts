/**
 * One benchmark run: start every server under test in its own child process, warm each scenario,
 * then run short rounds alternating between scenarios (so drift — thermal, noisy neighbours — hits
 * every scenario alike) and quote medians. Memory and cold start are measured on fresh children
 * afterwards. Every child is stopped in `finally`.
 */
import { type ServerChild, scriptPath, spawnServer, stopAll } from './lib/child.ts';
import { type LoadResult, runLoad } from './lib/load.ts';
import { type MachineFacts, machineFacts } from './lib/machine.ts';
import { type Service, serviceUnavailable } from './lib/services.ts';
import { median } from './lib/stats.ts';
import { type ColdStart, measureColdStart } from './measure/cold-start.ts';
import { type MemoryResult, measureMemory } from './measure/memory.ts';
import { type Prepared, type Scenario, type ServerKind, THROUGHPUT_SCENARIOS } from './scenarios.ts';
import type { SoakReport } from './soak.ts';
import type { StormReport } from './storm.ts';

export interface BenchOptions {
  readonly rounds: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly connections: number;
  /** Concurrent refresh chains (connections) of the refresh scenarios; default 16. */
  readonly refreshChains?: number;
  /** Scenario ids to run (default: all throughput scenarios). */
  readonly only?: readonly string[];
  /** Distinct tokens each authenticated throughput scenario rotates through. */
  readonly tokensPerScenario: number;
  readonly memory: { readonly distinctTokens: number } | false;
  readonly coldStartRounds: number;
  /** Seconds of back-to-back scrypt password checks (the login's cost), 0 = skip. */
  readonly loginSeconds: number;
  /** Write a CPU profile of the Sekisho child, covering the measured rounds only, to this path (and one
   * of every other child beside it, named `…-<server kind>.cpuprofile`). */
  readonly profilePath?: string;
  readonly log?: (line: string) => void;
}

export interface ScenarioResult {
  readonly id: string;
  readonly label: string;
  /** Connections the load generator kept busy in this scenario. */
  readonly connections: number;
  readonly rounds: readonly RoundResult[];
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
  /** Median server CPU time (user + system) per request, µs — robust to the client's share of the box. */
  readonly serverCpuUs: number;
  /** Median load-generator CPU time per request, µs (this process). */
  readonly clientCpuUs: number;
}

/** One measured run: the load result plus CPU time per request on each side. */
export interface RoundResult extends LoadResult {
  readonly serverCpuUs: number;
  readonly clientCpuUs: number;
}

export interface LoginResult {
  readonly logins: number;
  readonly seconds: number;
  readonly concurrency: number;
}

export interface BenchReport {
  readonly machine: MachineFacts;
  readonly options: Omit<BenchOptions, 'log' | 'only' | 'profilePath'>;
  readonly loadGenerator: string;
  readonly authenticated: boolean;
  readonly notes: readonly string[];
  readonly scenarios: readonly ScenarioResult[];
  readonly memory?: MemoryResult;
  readonly login?: LoginResult;
  readonly coldStart?: ColdStart;
  /** The soak and the login storm, when the run included them (`--with-soak`, `--with-storm`). */
  readonly soak?: SoakReport;
  readonly storm?: StormReport;
}

interface ServerScript {
  readonly script: string;
  readonly env?: Record<string, string>;
  /** Outside services it needs: without them its scenarios are skipped, with a note saying why. */
  readonly requires?: readonly Service[];
  /** How long it may take to answer `ready` (default 120 s). */
  readonly readyTimeoutMs?: number;
}

const SERVER_SCRIPTS: Record<ServerKind, ServerScript> = {
  echo: { script: 'servers/echo.ts' },
  sdk: { script: 'servers/sdk-recipe.ts' },
  sekisho: { script: 'servers/sekisho.ts' },
  // The same server on PostgreSQL (fresh schema), and on PostgreSQL + Redis (fresh key prefix).
  'sekisho-pg': {
    script: 'servers/sekisho.ts',
    env: { SEKISHO_BENCH_BACKEND: 'postgres' },
    requires: ['postgres'],
  },
  'sekisho-pg-redis': {
    script: 'servers/sekisho.ts',
    env: { SEKISHO_BENCH_BACKEND: 'postgres', SEKISHO_BENCH_WITH_REDIS: '1' },
    requires: ['postgres', 'redis'],
  },
  // Three instances on PostgreSQL + Redis behind nginx.
  // Four children in turn (the first migrates): on a loaded 2-core box that can take minutes.
  'sekisho-nginx': {
    script: 'servers/sekisho-cluster.ts',
    requires: ['postgres', 'redis', 'nginx'],
    readyTimeoutMs: 360_000,
  },
  // The same server with 2025-era sessions on (their default on one box; the others run without).
  'sekisho-sessions': { script: 'servers/sekisho.ts', env: { SEKISHO_MCP_SESSIONS: '1' } },
  'plain-oidc': { script: 'servers/plain-provider.ts' },
  'plain-oidc-sqlite': { script: 'servers/plain-provider.ts', env: { SEKISHO_BENCH_REF_STORE: 'sqlite' } },
};

export const DEFAULT_REFRESH_CHAINS = 16;

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const notes: string[] = [];
  const scenarios = await withServicesAvailable(
    THROUGHPUT_SCENARIOS.filter((s) => !opts.only || opts.only.includes(s.id)),
    (note) => {
      notes.push(note);
      log(note);
    },
  );
  const kinds = [...new Set(scenarios.map((s) => s.server))];
  const children = new Map<ServerKind, ServerChild>();
  const results = new Map<string, RoundResult[]>(scenarios.map((s) => [s.id, []]));
  let authenticated = false;
  let login: LoginResult | undefined;
  const connectionsOf = (s: Scenario) =>
    s.concurrency === 'refresh-chains' ? (opts.refreshChains ?? DEFAULT_REFRESH_CHAINS) : opts.connections;
  try {
    // Started together (start-up is not measured here); a failed start still stops the others.
    const started = await Promise.allSettled(
      kinds.map((kind) =>
        spawnServer({
          name: kind,
          script: scriptPath(SERVER_SCRIPTS[kind].script),
          // a loaded 2-core box can take long to start several tsx children
          readyTimeoutMs: SERVER_SCRIPTS[kind].readyTimeoutMs ?? 120_000,
          ...(SERVER_SCRIPTS[kind].env && { env: SERVER_SCRIPTS[kind].env }),
        }).then((child) => children.set(kind, child)),
      ),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const sekisho = children.get('sekisho');
    if (sekisho) {
      authenticated = sekisho.info.authenticated === true;
      if (!authenticated) notes.push(`Sekisho scenarios ran ANONYMOUSLY: ${String(sekisho.info.authNote)}`);
    }

    const prepared = new Map<string, Prepared>();
    const lastRps = new Map<string, number>();
    // Prepared outside the timed section; single-use credentials are prepared again for every run.
    const prepare = async (s: Scenario, durationSec: number): Promise<Prepared> => {
      const cached = prepared.get(s.id);
      if (cached && !s.perRound) return cached;
      const expectedRps = lastRps.get(s.id);
      const p = await s.prepare(children.get(s.server)!, {
        connections: connectionsOf(s),
        tokens: opts.tokensPerScenario,
        durationSec,
        ...(expectedRps !== undefined && { expectedRps }),
      });
      prepared.set(s.id, p);
      return p;
    };
    for (const s of scenarios) {
      const child = children.get(s.server)!;
      await s.check(child, await prepare(s, opts.durationSec));
      if (opts.warmupSec > 0) {
        log(`warm-up ${s.id} (${opts.warmupSec}s)`);
        const p = await prepare(s, opts.warmupSec);
        const w = await runLoad({
          url: child.url,
          connections: connectionsOf(s),
          durationSec: opts.warmupSec,
          ...p,
        });
        lastRps.set(s.id, w.rps);
      }
    }

    // Every child is profiled over the same rounds, so a server can be compared with its reference
    // (f-refresh with f-refresh-ref-sqlite); the Sekisho child's profile is the one reported.
    if (opts.profilePath) await Promise.all([...children.values()].map((c) => c.call('profile-start')));
    for (let round = 1; round <= opts.rounds; round++) {
      for (const s of scenarios) {
        const child = children.get(s.server)!;
        const p = await prepare(s, opts.durationSec);
        const serverBefore = await child.call<NodeJS.CpuUsage>('cpu');
        const clientBefore = process.cpuUsage();
        const load = await runLoad({
          url: child.url,
          connections: connectionsOf(s),
          durationSec: opts.durationSec,
          ...p,
        });
        const server = cpuMicros(await child.call<NodeJS.CpuUsage>('cpu'), serverBefore);
        const client = cpuMicros(process.cpuUsage(), clientBefore);
        const done = Math.max(1, load.requests);
        const r: RoundResult = { ...load, serverCpuUs: server / done, clientCpuUs: client / done };
        lastRps.set(s.id, r.rps);
        results.get(s.id)!.push(r);
        log(
          `round ${round}/${opts.rounds} ${s.id.padEnd(8)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  server ${r.serverCpuUs.toFixed(0)} µs CPU/req${r.non2xx + r.errors ? `  FAILURES ${r.non2xx + r.errors}` : ''}`,
        );
      }
    }
    if (opts.profilePath) {
      const path = opts.profilePath;
      await Promise.all(
        [...children].map(([kind, c]) =>
          c.call('profile-stop', {
            path: kind === 'sekisho' ? path : path.replace(/(\.cpuprofile)?$/, `-${kind}.cpuprofile`),
          }),
        ),
      );
    }
    if (opts.loginSeconds > 0 && children.get('sekisho')?.info.authenticated) {
      log(`login: scrypt password checks for ${opts.loginSeconds}s`);
      // As many at once as libuv's thread pool runs scrypt in parallel here (one per core).
      login = await children.get('sekisho')!.call<LoginResult>('login-bench', {
        seconds: opts.loginSeconds,
        concurrency: Math.min(4, machineFacts().cores),
      });
    }
  } finally {
    await stopAll([...children.values()]);
  }

  let memory: MemoryResult | undefined;
  if (opts.memory) {
    log(`memory: idle, then ${opts.memory.distinctTokens} distinct tokens`);
    memory = await measureMemory({
      distinctTokens: opts.memory.distinctTokens,
      connections: opts.connections,
    });
  }
  let coldStart: ColdStart | undefined;
  if (opts.coldStartRounds > 0) {
    log(`cold start ×${opts.coldStartRounds}`);
    coldStart = await measureColdStart(opts.coldStartRounds);
  }

  const { log: _log, only: _only, profilePath: _profile, ...options } = opts;
  return {
    machine: machineFacts(),
    options,
    loadGenerator: 'autocannon 8.0.0 (library, same host, loopback)',
    authenticated,
    notes,
    scenarios: scenarios.map((s) => summarise(s, connectionsOf(s), results.get(s.id)!)),
    ...(memory && { memory }),
    ...(login && { login }),
    ...(coldStart && { coldStart }),
  };
}

/** The scenarios whose servers' services answer; one note per skipped group, naming the reason. */
async function withServicesAvailable(
  scenarios: readonly Scenario[],
  note: (line: string) => void,
): Promise<Scenario[]> {
  const needed = [...new Set(scenarios.flatMap((s) => SERVER_SCRIPTS[s.server].requires ?? []))];
  const missing = new Map<Service, string>();
  for (const service of needed) {
    const why = await serviceUnavailable(service);
    if (why) missing.set(service, why);
  }
  const kept: Scenario[] = [];
  const skipped = new Map<string, string[]>();
  for (const s of scenarios) {
    const reasons = (SERVER_SCRIPTS[s.server].requires ?? []).flatMap((r) => missing.get(r) ?? []);
    if (reasons.length === 0) {
      kept.push(s);
      continue;
    }
    const why = reasons.join('; ');
    skipped.set(why, [...(skipped.get(why) ?? []), s.id]);
  }
  for (const [why, ids] of skipped) note(`skipped ${ids.join(', ')}: ${why}`);
  return kept;
}

const cpuMicros = (after: NodeJS.CpuUsage, before: NodeJS.CpuUsage) =>
  after.user - before.user + (after.system - before.system);

function summarise(s: Scenario, connections: number, rounds: RoundResult[]): ScenarioResult {
  return {
    id: s.id,
    label: s.label,
    connections,
    rounds,
    rps: median(rounds.map((r) => r.rps)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    failures: rounds.reduce((n, r) => n + r.non2xx + r.errors, 0),
    serverCpuUs: median(rounds.map((r) => r.serverCpuUs)),
    clientCpuUs: median(rounds.map((r) => r.clientCpuUs)),
  };
}
