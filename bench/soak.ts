/**
 * `npm run bench -- --soak=10m`: a long run against one Sekisho child — authenticated `tools/call` at
 * a steady rate (default 200/s) plus a real sign-in on the account page every 5 s — sampling the
 * child's memory before each sign-in. Reports RSS per minute (median and last sample) and the growth from
 * minute 2 to the last minute, by medians and point to point: the memory-leak check of issue 8.
 */
import { Agent, request } from 'node:http';
import { signInOnAccountPage } from '../test/helpers/account-sign-in.ts';
import { type ServerChild, scriptPath, spawnServer } from './lib/child.ts';
import type { MemoryReport } from './lib/ipc.ts';
import { mcpRequest, withBearer } from './lib/mcp-requests.ts';
import { median } from './lib/stats.ts';

export interface SoakOptions {
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly signInEverySeconds: number;
  readonly env?: Record<string, string>;
  readonly log: (line: string) => void;
}

export interface SoakSample extends MemoryReport {
  readonly atSeconds: number;
}

export interface SoakMinute {
  readonly minute: number;
  readonly medianRssMiB: number;
  readonly lastRssMiB: number;
  readonly medianHeapUsedMiB: number;
  readonly medianExternalMiB: number;
}

export interface SoakReport {
  readonly durationSeconds: number;
  readonly requests: number;
  readonly failedRequests: number;
  readonly signIns: number;
  readonly failedSignIns: number;
  readonly env: Record<string, string>;
  readonly samples: readonly SoakSample[];
  readonly minutes: readonly SoakMinute[];
  /** Minute 2 → last minute, percent (undefined for runs shorter than 3 minutes). */
  readonly growthByMediansPct: number | undefined;
  readonly growthPointToPointPct: number | undefined;
}

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Parses `10m`, `90s`, `600` (seconds) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text} (e.g. 10m, 90s)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  let child: ServerChild | undefined;
  try {
    child = await spawnServer({
      name: 'sekisho (soak)',
      script: scriptPath('servers/sekisho.ts'),
      readyTimeoutMs: 120_000,
      ...(opts.env && { env: opts.env }),
    });
    const server = child;
    const tokens = await server.call<string[]>('access-tokens', { count: 50 }, 120_000);
    const spec = mcpRequest({ era: 'modern', method: 'tools/call', tool: 'hello_world', args: {} });
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const url = new URL(spec.path, server.url);
    let requests = 0;
    let failedRequests = 0;
    let signIns = 0;
    let failedSignIns = 0;
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const samples: SoakSample[] = [];

    const send = (token: string) =>
      new Promise<void>((resolve) => {
        const s = withBearer(spec, token);
        const req = request(url, { method: s.method, headers: s.headers, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            requests++;
            if ((res.statusCode ?? 0) !== 200) failedRequests++;
            resolve();
          });
        });
        req.on('error', () => {
          failedRequests++;
          resolve();
        });
        req.end(s.body);
      });

    // A steady rate, not a closed loop: each 50 ms tick sends its share without waiting for earlier
    // answers (at most 64 outstanding, so a stalled server is not buried).
    let inFlight = 0;
    const traffic = (async () => {
      const tickMs = 50;
      const perTick = Math.max(1, Math.round((opts.requestsPerSecond * tickMs) / 1000));
      const outstanding: Promise<void>[] = [];
      let n = 0;
      let next = performance.now();
      while (elapsed() < opts.durationMs) {
        for (let i = 0; i < perTick && inFlight < 64; i++) {
          inFlight++;
          outstanding.push(send(tokens[n++ % tokens.length]!).finally(() => inFlight--));
        }
        if (outstanding.length > 10_000) await Promise.all(outstanding.splice(0));
        next += tickMs;
        await sleep(Math.max(0, next - performance.now()));
      }
      await Promise.all(outstanding);
    })();

    // Memory is sampled just before each sign-in, when no password hash is in flight: a sample taken
    // while one runs would include its transient 32 MiB scrypt buffer and read as growth.
    const logins = (async () => {
      while (elapsed() < opts.durationMs) {
        const m = await server.call<MemoryReport>('rss');
        samples.push({ ...m, atSeconds: elapsed() / 1000 });
        if (samples.length % 12 === 0) {
          opts.log(
            `soak: ${Math.round(elapsed() / 1000)} s, RSS ${(m.rss / MiB).toFixed(1)} MiB, ${requests} requests`,
          );
        }
        const outcome = await signInOnAccountPage(server.url, {
          username: 'demo',
          password: 'demo123',
        }).catch(() => undefined);
        if (outcome?.status === 303) signIns++;
        else failedSignIns++;
        await sleep(opts.signInEverySeconds * 1000);
      }
    })();

    await Promise.all([traffic, logins]);
    agent.destroy();
    return summarise(samples, opts.durationMs, {
      durationSeconds: Math.round(elapsed() / 1000),
      requests,
      failedRequests,
      signIns,
      failedSignIns,
      env: opts.env ?? {},
    });
  } finally {
    await child?.stop();
  }
}

function summarise(
  samples: SoakSample[],
  durationMs: number,
  totals: Omit<SoakReport, 'samples' | 'minutes' | 'growthByMediansPct' | 'growthPointToPointPct'>,
): SoakReport {
  const byMinute = new Map<number, SoakSample[]>();
  for (const s of samples) {
    // Minute k holds the samples taken in [(k-1)·60, k·60) seconds.
    const minute = Math.min(Math.floor(s.atSeconds / 60) + 1, Math.ceil(durationMs / 60_000));
    byMinute.set(minute, [...(byMinute.get(minute) ?? []), s]);
  }
  const minutes: SoakMinute[] = [...byMinute.entries()]
    .sort(([a], [b]) => a - b)
    .map(([minute, list]) => ({
      minute,
      medianRssMiB: round(median(list.map((s) => s.rss)) / MiB),
      lastRssMiB: round(list.at(-1)!.rss / MiB),
      medianHeapUsedMiB: round(median(list.map((s) => s.heapUsed)) / MiB),
      medianExternalMiB: round(median(list.map((s) => s.external)) / MiB),
    }));
  const second = minutes.find((m) => m.minute === 2);
  const last = minutes.at(-1);
  const growth = (from: number, to: number) => round(((to - from) / from) * 100);
  // Point to point: the first sample of minute 2 against the last sample of the run.
  const atTwo = samples.find((s) => s.atSeconds >= 60);
  const enough = second && last && last.minute >= 3 && atTwo;
  return {
    ...totals,
    samples,
    minutes,
    growthByMediansPct: enough ? growth(second.medianRssMiB, last.medianRssMiB) : undefined,
    growthPointToPointPct: enough ? growth(atTwo.rss / MiB, samples.at(-1)!.rss / MiB) : undefined,
  };
}

const round = (v: number) => Math.round(v * 10) / 10;

export function renderSoak(report: SoakReport): string {
  const lines = [
    `Soak: ${report.durationSeconds} s, ${report.requests} authenticated tools/call (${report.failedRequests} failed), ${report.signIns} sign-ins (${report.failedSignIns} failed)${Object.keys(report.env).length ? `, env ${JSON.stringify(report.env)}` : ''}`,
    '',
    '| Minute | RSS median (MiB) | RSS last sample (MiB) | JS heap used (MiB) | external (MiB) |',
    '| -----: | ---------------: | --------------------: | -----------------: | -------------: |',
    ...report.minutes.map(
      (m) =>
        `| ${m.minute} | ${m.medianRssMiB} | ${m.lastRssMiB} | ${m.medianHeapUsedMiB} | ${m.medianExternalMiB} |`,
    ),
    '',
    report.growthByMediansPct === undefined
      ? 'Growth: run at least 3 minutes for the minute-2 → last-minute figures.'
      : `Growth minute 2 → minute ${report.minutes.at(-1)!.minute}: ${report.growthByMediansPct} % by medians, ${report.growthPointToPointPct} % point to point.`,
  ];
  return lines.join('\n');
}
