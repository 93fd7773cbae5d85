/**
 * `npm run bench -- --storm=50`: the login-storm scenario of issue 8, in one run against one Sekisho
 * child. A paced authenticated MCP client (tools/call every 10 ms) is measured twice for the same
 * duration: alone, then while N users (distinct accounts, each from its own loopback address) sign in
 * on the account page over and over (a 503 "busy" answer is retried after its Retry-After, as a
 * browser user would). Reports both p99s and their ratio (goal ≤ 5×).
 */
import { loopbackAddress, signInOnAccountPage } from '../test/helpers/account-sign-in.ts';
import { type ServerChild, scriptPath, spawnServer } from './lib/child.ts';
import { type ProbeResult, probeLatency } from './lib/latency-probe.ts';
import { mcpRequest, withBearer } from './lib/mcp-requests.ts';

export interface StormReport {
  readonly signers: number;
  readonly seconds: number;
  readonly quiet: ProbeResult;
  readonly storm: ProbeResult;
  readonly ratioP99: number;
  readonly signIns: {
    readonly ok: number;
    readonly busy: number;
    readonly other: number;
    readonly p50Ms: number;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runStorm(opts: {
  signers: number;
  seconds: number;
  log: (line: string) => void;
}): Promise<StormReport> {
  let child: ServerChild | undefined;
  try {
    child = await spawnServer({
      name: 'sekisho (storm)',
      script: scriptPath('servers/sekisho.ts'),
      readyTimeoutMs: 120_000,
    });
    const server = child;
    const [token] = await server.call<string[]>('access-tokens', { count: 1 });
    opts.log(`storm: creating ${opts.signers} accounts…`);
    const users = await server.call<{ username: string; password: string }[]>(
      'storm-users',
      { count: opts.signers },
      600_000,
    );
    const spec = withBearer(
      mcpRequest({ era: 'modern', method: 'tools/call', tool: 'hello_world', args: {} }),
      token,
    );
    const probe = () => probeLatency(server.url, spec, { durationMs: opts.seconds * 1000, intervalMs: 10 });
    await probeLatency(server.url, spec, { durationMs: 2000, intervalMs: 10 }); // warm-up
    opts.log('storm: measuring tools/call alone…');
    const quiet = await probe();
    opts.log(`storm: measuring tools/call during ${opts.signers} concurrent sign-ins…`);
    let stop = false;
    const outcomes = { ok: 0, busy: 0, other: 0 };
    const durations: number[] = [];
    const signers = users.map(async (user, i) => {
      while (!stop) {
        const r = await signInOnAccountPage(server.url, { ...user, from: loopbackAddress(i) }).catch(
          () => undefined,
        );
        if (r?.status === 303) {
          outcomes.ok++;
          durations.push(r.ms);
        } else if (r?.status === 503) {
          outcomes.busy++;
          await sleep((r.retryAfterSeconds ?? 1) * 1000);
        } else outcomes.other++;
      }
    });
    await sleep(500); // let the storm build up
    const storm = await probe();
    stop = true;
    await Promise.all(signers);
    durations.sort((a, b) => a - b);
    return {
      signers: opts.signers,
      seconds: opts.seconds,
      quiet,
      storm,
      ratioP99: Math.round((storm.p99 / quiet.p99) * 10) / 10,
      signIns: { ...outcomes, p50Ms: Math.round(durations[durations.length >> 1] ?? Number.NaN) },
    };
  } finally {
    await child?.stop();
  }
}

export function renderStorm(r: StormReport): string {
  const row = (name: string, p: ProbeResult) =>
    `| ${name} | ${p.count} | ${p.p50.toFixed(1)} | ${p.p99.toFixed(1)} | ${p.max.toFixed(1)} | ${p.failures} |`;
  return [
    `Login storm: authenticated tools/call every 10 ms for ${r.seconds} s, alone and during ${r.signers} concurrent sign-ins (distinct users and addresses).`,
    '',
    '| tools/call | requests | p50 (ms) | p99 (ms) | max (ms) | failed |',
    '| ---------- | -------: | -------: | -------: | -------: | -----: |',
    row('alone', r.quiet),
    row(`${r.signers} signing in`, r.storm),
    '',
    `p99 ratio: ${r.ratioP99}× (goal ≤ 5×). Sign-ins during the storm: ${r.signIns.ok} succeeded (median ${r.signIns.p50Ms} ms), ${r.signIns.busy} answered 503 busy and retried, ${r.signIns.other} other.`,
  ].join('\n');
}
