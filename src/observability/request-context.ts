/**
 * Who is on the other end of the HTTP request being served, for code far from the HTTP edge that
 * needs it without an HTTP object in reach — the `quick_login` tool, whose failed sign-ins are
 * throttled per client address like every other sign-in (the MCP SDK hands tools no socket), and the
 * audit log, which records the address and user agent of every event (audit/audit.ts).
 *
 * The address is the TCP peer, as everywhere else in Sekisho (X-Forwarded-For is not trusted).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestContext {
  readonly clientIp: string;
  readonly userAgent: string | undefined;
}

const scope = new AsyncLocalStorage<RequestContext>();

/** Wraps a `request` listener so everything it starts can ask `currentRequest()`. */
export function withRequestContext(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) =>
    scope.run(
      { clientIp: req.socket.remoteAddress ?? 'unknown', userAgent: req.headers['user-agent'] },
      listener,
      req,
      res,
    );
}

/**
 * Runs `fn` in a request context captured earlier with `currentRequest()` — for a stream event (a
 * body's 'end') that fires outside it. Only this module's context is carried over, which is all
 * Sekisho code reads; `AsyncResource.bind` would carry every context but builds a resource and two
 * deprecation wrappers per call (≈ 5 % of the fast lane's CPU when profiled).
 */
export function runInRequestContext<R>(context: RequestContext | undefined, fn: () => R): R {
  return context === undefined ? fn() : scope.run(context, fn);
}

/** The request being served, or undefined outside one. */
export function currentRequest(): RequestContext | undefined {
  return scope.getStore();
}

/** The client address of the request being served, or undefined outside one. */
export function currentClientIp(): string | undefined {
  return scope.getStore()?.clientIp;
}
