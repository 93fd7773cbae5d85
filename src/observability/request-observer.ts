/**
 * Every answered request's one log line and one duration sample, made in one place for the three
 * front doors that answer requests: Express (`http/middleware/request-log.ts`), the MCP fast lane
 * (`mcp/fast-lane/`) and the OAuth API lane (`oauth/api-lane.ts`).
 *
 * The line is method, path (without the query string, which may carry codes or state), status and
 * duration, plus the safe notes a handler attached (`request-notes.ts`). Headers are never logged,
 * so Authorization and cookies cannot leak. Its fields are flat — fixed words, numbers and those
 * notes — while every redaction path is nested (`*.password`, `req.headers.authorization`), so the
 * logger's redaction pass could never match: it is skipped (≈ 4 µs of the ≈ 5 µs a line costs).
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { requestLogNotes } from './request-notes.ts';

export type ObserveRequest = (
  method: string,
  path: string,
  status: number,
  startedAt: bigint,
  notes?: Readonly<Record<string, string>>,
) => void;

export function createRequestObserver(logger: Logger, metrics?: Metrics): ObserveRequest {
  const lines = logger.child({}, { redact: [] });
  return (method, path, status, startedAt, notes) => {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    lines.info({ method, path, status, ms: Math.round(seconds * 10_000) / 10, ...notes }, 'request');
    metrics?.observeRequest(path, method, status, seconds);
  };
}

/** Observes a response someone else writes, when it has been sent; `path()` is read then. */
export function observeWhenFinished(
  observe: ObserveRequest,
  method: string | undefined,
  res: ServerResponse,
  path: () => string,
): void {
  const startedAt = process.hrtime.bigint();
  res.once('finish', () => observe(method ?? 'GET', path(), res.statusCode, startedAt, requestLogNotes(res)));
}
