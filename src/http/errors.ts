/**
 * The edge where errors become HTTP answers — one place. Protocol layers throw typed errors
 * (`HttpError` here; oidc-provider and the SDK answer their own), and this mapper turns anything that
 * reaches Express into the right status and body: JSON-RPC errors on /mcp, JSON elsewhere, an HTML
 * page for browsers. Unexpected errors are logged with a reference and never leak internals.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../observability/logger.ts';
import { StorageUnavailableError } from '../storage/errors.ts';

/** A deliberate HTTP failure with a stable machine code (`error`) and a safe message. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** JSON-RPC 2.0 error codes used at the HTTP edge. */
export const JSONRPC = { PARSE_ERROR: -32700, INVALID_REQUEST: -32600, INTERNAL_ERROR: -32603 } as const;

export function sendJsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', id: null, error: { code, message } });
}

export function createErrorHandler(
  logger: Logger,
  renderHtml?: (status: number, message: string, req: Request) => string,
): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    const known = classify(err);
    if (!known) {
      const ref = randomUUID();
      logger.error({ err, ref, path: req.path }, 'unhandled error');
      return respond(
        req,
        res,
        500,
        'server_error',
        `Internal error (reference ${ref}).`,
        JSONRPC.INTERNAL_ERROR,
        renderHtml,
      );
    }
    if (known.status === 503)
      logger.warn({ reason: (err as Error).message, path: req.path }, 'storage unavailable');
    for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
    respond(req, res, known.status, known.code, known.message, known.rpcCode, renderHtml);
  };
}

interface Classified {
  status: number;
  code: string;
  message: string;
  rpcCode: number;
  headers: Readonly<Record<string, string>>;
}

function classify(err: unknown): Classified | undefined {
  if (err instanceof StorageUnavailableError) {
    // The database or Redis is down or too slow right now: a retryable 503, never a 500 — and never a
    // silent pass that would skip a throttle (issue #10).
    return {
      status: 503,
      code: 'temporarily_unavailable',
      message: 'The service cannot reach its database or Redis right now; retry shortly.',
      rpcCode: JSONRPC.INTERNAL_ERROR,
      headers: { 'Retry-After': String(StorageUnavailableError.retryAfterSeconds) },
    };
  }
  if (err instanceof HttpError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      rpcCode: JSONRPC.INVALID_REQUEST,
      headers: err.headers,
    };
  }
  // body-parser errors carry `type` and `status`.
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed') {
    return {
      status: 400,
      code: 'invalid_request',
      message: 'Parse error: the body is not valid JSON.',
      rpcCode: JSONRPC.PARSE_ERROR,
      headers: {},
    };
  }
  if (e?.type === 'entity.too.large') {
    return {
      status: 413,
      code: 'invalid_request',
      message: 'Request body too large.',
      rpcCode: JSONRPC.INVALID_REQUEST,
      headers: {},
    };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return {
      status: e.status,
      code: 'invalid_request',
      message: e.message ?? 'Bad request.',
      rpcCode: JSONRPC.INVALID_REQUEST,
      headers: {},
    };
  }
  return undefined;
}

function respond(
  req: Request,
  res: Response,
  status: number,
  code: string,
  message: string,
  rpcCode: number,
  renderHtml: ((status: number, message: string, req: Request) => string) | undefined,
) {
  if (req.path === '/mcp' || req.path.startsWith('/mcp/'))
    return sendJsonRpcError(res, status, rpcCode, message);
  if (renderHtml && req.accepts(['json', 'html']) === 'html') {
    res
      .status(status)
      .type('html')
      .send(renderHtml(status, message, req));
    return;
  }
  res.status(status).json({ error: code, error_description: message });
}
