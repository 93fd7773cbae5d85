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

/** One run of the chain: a single response stand-in whose any use means "refused". */
class Run {
  verdict: Verdict | undefined;
  private wake: ((v: Verdict) => void) | undefined;
  readonly probe: ServerResponse;

  constructor() {
    const touch = () => this.settle('refused');
    const handler: ProxyHandler<object> = {
      get: (_target, property) => {
        if (property === 'then') return undefined; // never mistaken for a promise
        touch();
        return typeof property === 'symbol' ? undefined : () => proxy;
      },
      set: () => {
        touch();
        return true;
      },
    };
    const proxy = new Proxy({}, handler);
    this.probe = proxy as ServerResponse;
  }

  settle(verdict: Verdict): void {
    if (this.verdict !== undefined) return;
    this.verdict = verdict;
    this.wake?.(verdict);
  }

  readonly next = (error?: unknown): void =>
    this.settle(error === undefined || error === 'route' ? 'pass' : 'refused');

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
