/**
 * The load generator: autocannon 8 used as a library, from loopback, bounded in time.
 *
 * Why autocannon rather than wrk: it is already a dev dependency (CI and the smoke test need no
 * system package), requests can vary per call in JavaScript (10,000 distinct tokens, single-use
 * authorization codes, rotating refresh tokens), and on this 2-core box it drives the bare
 * node:http echo as hard as wrk 4.1 does (≈37k req/s each, measured while choosing). Its own
 * latency histogram has 1 ms resolution, so every response time is recorded here at full
 * precision from its `response` event and percentiles are exact.
 */
import autocannon, { type AutocannonRequest } from 'autocannon';
import { percentileSorted, Samples } from './stats.ts';

export interface HttpRequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface LoadOptions {
  /** Base URL of the server (http://127.0.0.1:port). */
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  /** Stop after this many requests instead (the run is still bounded by `durationSec`). */
  readonly amount?: number;
  /** A fixed request, or a function building each request (token rotation, single-use codes). */
  readonly request: HttpRequestSpec | (() => HttpRequestSpec);
  /** Receives every response body (only when given: reading bodies costs the client). */
  readonly onBody?: (status: number, body: string) => void;
}

export interface LoadResult {
  /** Responses received (any status). */
  readonly requests: number;
  /** 2xx responses per second. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly durationSec: number;
}

function toAutocannon(spec: HttpRequestSpec): AutocannonRequest {
  // A copy: autocannon writes Content-Length into the headers object it is given, and a stale one
  // left in a shared object would corrupt every later request built from it.
  return { method: spec.method, path: spec.path, headers: { ...spec.headers }, body: spec.body ?? '' };
}

export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(opts.url.replace(/\/$/, ''))) {
    return Promise.reject(new Error(`load is only ever sent to loopback, not ${opts.url}`));
  }
  const samples = new Samples();
  const build = opts.request;
  const template = typeof build === 'function' ? build() : build;
  const request: AutocannonRequest = toAutocannon(template);
  // setupRequest's result replaces autocannon's merged defaults (host, port), so merge into them.
  if (typeof build === 'function') request.setupRequest = (req) => ({ ...req, ...toAutocannon(build()) });
  if (opts.onBody) {
    const onBody = opts.onBody;
    request.onResponse = (status, body) => onBody(status, body);
  }
  return new Promise<LoadResult>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        ...(opts.amount === undefined ? { duration: opts.durationSec } : { amount: opts.amount }),
        timeout: 10,
        requests: [request],
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        const sorted = samples.sorted();
        resolve({
          requests: result.requests.total,
          // Only successful answers count: a run that fails fast must not look fast.
          rps: (result.requests.total - result.non2xx) / Math.max(result.duration || opts.durationSec, 1e-9),
          p50Ms: percentileSorted(sorted, 50),
          p99Ms: percentileSorted(sorted, 99),
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          durationSec: elapsed,
        });
      },
    );
    // `amount` runs end by count; this bound keeps them finite if the server stalls.
    const guard =
      opts.amount === undefined ? undefined : setTimeout(() => instance.stop(), opts.durationSec * 1000);
    instance.once('done', () => clearTimeout(guard));
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) samples.push(ms);
    });
  });
}
