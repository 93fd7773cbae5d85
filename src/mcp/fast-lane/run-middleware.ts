/**
 * Runs the /mcp route's own Express middleware (Host and Origin guards, the bearer gate) outside
 * Express, so the fast lane applies exactly the checks the full pipeline applies instead of a copy
 * of them. A middleware that calls `next()` has let the request through; one that touches the
 * response has refused it (a guard's 403, the gate's 401/403 challenge) and one that calls
 * `next(error)` has failed it. In both cases the fast lane gives up and the request goes through
 * Express, where the same middleware runs again and answers on the real response. Refusals are the
 * rare path, so running a guard twice there is cheap, and no decision is ever made twice differently.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

export type Verdict = 'pass' | 'refused';

/** A response stand-in: any use of it means the middleware is answering, i.e. refusing. */
function probeResponse(onTouch: () => void): ServerResponse {
  const handler: ProxyHandler<object> = {
    get(_target, property) {
      if (property === 'then') return undefined; // never mistaken for a promise
      onTouch();
      return typeof property === 'symbol' ? undefined : () => proxy;
    },
    set() {
      onTouch();
      return true;
    },
  };
  const proxy = new Proxy({}, handler);
  return proxy as ServerResponse;
}

/** Run one middleware on `req` with a probe response; resolves once it passes or refuses. */
function runOne(middleware: RequestHandler, req: IncomingMessage): Promise<Verdict> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (verdict: Verdict) => {
      if (settled) return;
      settled = true;
      resolve(verdict);
    };
    const res = probeResponse(() => settle('refused'));
    const next = (error?: unknown) => settle(error === undefined || error === 'route' ? 'pass' : 'refused');
    try {
      const returned = (middleware as (q: unknown, s: unknown, n: unknown) => unknown)(req, res, next);
      // An async middleware that settles without calling next or touching res has answered in a
      // way we cannot see: treat it as a refusal so Express handles the request.
      if (returned instanceof Promise)
        returned.then(
          () => settle('refused'),
          () => settle('refused'),
        );
      else if (!settled) queueMicrotask(() => settle('refused'));
    } catch {
      settle('refused');
    }
  });
}

/** Run the middleware in order; stops at the first refusal. Synchronous passes cost no extra tick. */
export async function runMiddleware(
  chain: readonly RequestHandler[],
  req: IncomingMessage,
): Promise<Verdict> {
  for (const middleware of chain) {
    if ((await runOne(middleware, req)) === 'refused') return 'refused';
  }
  return 'pass';
}
