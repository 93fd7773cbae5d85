/**
 * Runs the /mcp route's own Express middleware (Host and Origin guards, the bearer gate) outside
 * Express, so the fast lane applies exactly the checks the full pipeline applies instead of a copy
 * of them. A middleware that calls `next()` has let the request through; one that touches the
 * response has refused it (a guard's 403, the gate's 401/403 challenge) and one that calls
 * `next(error)` has failed it. In both cases the fast lane gives up and the request goes through
 * Express, where the same middleware runs again and answers on the real response. Refusals are the
 * rare path, so running a guard twice there is cheap, and no decision is ever made twice differently.
 *
 * Hot-path shape: a middleware that calls `next()` synchronously (the guards) costs one call — no
 * promise, no extra tick; only an asynchronous one (the gate) is awaited.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

export type Verdict = 'pass' | 'refused';

type Middleware = (req: unknown, res: unknown, next: (error?: unknown) => void) => unknown;

/**
 * The stand-in response's traps, shared by every run (the proxy's target is the run itself): reading
 * or writing anything on it settles the run as refused. A read hands back a function that returns its
 * receiver, so a chained `res.status(401).json(…)` runs through without throwing.
 *
 * Nothing here is created per request: a closure made per run (the traps, `next`) costs an
 * allocation each, and in the bundle, which keeps function names (scripts/bundle.mjs), a name
 * helper call each as well (≈ 2 % of the lane's CPU when profiled).
 */
const PROBE_TRAPS: ProxyHandler<Run> = {
  get(run, property) {
    if (property === 'then') return undefined; // never mistaken for a promise
    run.settle('refused');
    return typeof property === 'symbol' ? undefined : returnsReceiver;
  },
  set(run) {
    run.settle('refused');
    return true;
  },
};

function returnsReceiver(this: unknown): unknown {
  return this;
}

/** One run of the chain: a single response stand-in whose any use means "refused". */
class Run {
  verdict: Verdict | undefined;
  private wake: ((v: Verdict) => void) | undefined;
  readonly probe: ServerResponse;
  /** The middleware's `next`: called with nothing (or 'route') it let the request through. */
  readonly next: (error?: unknown) => void;

  constructor() {
    this.probe = new Proxy(this, PROBE_TRAPS) as unknown as ServerResponse;
    this.next = (error) => this.settle(error === undefined || error === 'route' ? 'pass' : 'refused');
  }

  settle(verdict: Verdict): void {
    if (this.verdict !== undefined) return;
    this.verdict = verdict;
    this.wake?.(verdict);
  }

  /** Resolves when the pending middleware settles. */
  wait(returned: unknown): Promise<Verdict> {
    return new Promise((resolve) => {
      this.wake = resolve;
      // An async middleware that settles without calling next or touching res has answered in a
      // way we cannot see; a synchronous one that did neither never will: both count as refusals.
      if (returned instanceof Promise)
        returned.then(
          () => this.settle('refused'),
          () => this.settle('refused'),
        );
      else queueMicrotask(() => this.settle('refused'));
    });
  }
}

/** Run the middleware in order; stops at the first refusal. */
export async function runMiddleware(
  chain: readonly RequestHandler[],
  req: IncomingMessage,
): Promise<Verdict> {
  for (const middleware of chain) {
    const run = new Run();
    let returned: unknown;
    try {
      returned = (middleware as unknown as Middleware)(req, run.probe, run.next);
    } catch {
      return 'refused';
    }
    const verdict = run.verdict ?? (await run.wait(returned));
    if (verdict === 'refused') return 'refused';
  }
  return 'pass';
}
