/**
 * A paced client that sends one request every `intervalMs` (keep-alive, never more than `maxInFlight`
 * outstanding) and records each latency: what one well-behaved authenticated MCP client experiences
 * while something else loads the server. Unlike autocannon it does not saturate the server, so its
 * p99 measures interference, not queueing of its own requests.
 */
import { Agent, request } from 'node:http';
import type { HttpRequestSpec } from './load.ts';
import { percentileSorted, Samples } from './stats.ts';

export interface ProbeResult {
  readonly count: number;
  readonly failures: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export async function probeLatency(
  baseUrl: string,
  spec: HttpRequestSpec,
  opts: { durationMs: number; intervalMs: number; maxInFlight?: number },
): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxInFlight ?? 16 });
  const url = new URL(spec.path, baseUrl);
  const latencies = new Samples();
  let failures = 0;
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      inFlight++;
      const req = request(url, { method: spec.method, headers: spec.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          inFlight--;
          latencies.push(performance.now() - started);
          if ((res.statusCode ?? 0) >= 300) failures++;
          resolve();
        });
      });
      req.on('error', () => {
        inFlight--;
        failures++;
        resolve();
      });
      req.end(spec.body);
    });
  const deadline = performance.now() + opts.durationMs;
  while (performance.now() < deadline) {
    if (inFlight < (opts.maxInFlight ?? 16)) pending.push(one());
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
  await Promise.all(pending);
  agent.destroy();
  const sorted = latencies.sorted();
  return {
    count: sorted.length,
    failures,
    p50: percentileSorted(sorted, 50),
    p99: percentileSorted(sorted, 99),
    max: sorted.at(-1) ?? 0,
  };
}
