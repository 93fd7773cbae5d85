/**
 * The edge where errors become HTTP answers — one place. Protocol layers throw typed errors
 * (`HttpError` here; oidc-provider and the SDK answer their own), and this mapper turns anything that
 * reaches Express into the right status and body: JSON-RPC errors on /mcp, JSON elsewhere, an HTML
 * page for browsers. Unexpected errors are logged with a reference and never leak internals.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../observability/logger.ts';
import { ExternalIssuerUnavailableError } from '../resource/external/errors.ts';
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

/**
 * Answers a browser with an HTML error page (the authorization server's, with its security headers).
 * `code` is the OAuth-style error code, `message` the safe explanation.
 */
export type HtmlErrorPage = (
  req: Request,
  res: Response,
  status: number,
  code: string,
  message: string,
) => void;

export function createErrorHandler(logger: Logger, htmlPage?: HtmlErrorPage): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      req.socket?.destroy(); // null once the client has gone (a stream that outlived its connection)
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
        htmlPage,
      );
    }
    if (known.status === 503) {
      const what = err instanceof ExternalIssuerUnavailableError ? 'external issuer' : 'storage';
      logger.warn({ reason: (err as Error).message, path: req.path }, `${what} unavailable`);
    }
    for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
    respond(req, res, known.status, known.code, known.message, known.rpcCode, htmlPage);
  };
}

interface Classified {
  status: number;
  code: string;
  message: string;
  rpcCode: number;
  headers: Readonly<Record<string, string>>;
}

/** What body parsers (body-parser, raw-body, http-errors) say about a request they could not read. */
const BODY_PROBLEMS: Readonly<Record<string, { status: number; message: string; rpcCode?: number }>> = {
  'entity.parse.failed': {
    status: 400,
    message: 'Parse error: the body is not valid JSON.',
    rpcCode: JSONRPC.PARSE_ERROR,
  },
  'entity.too.large': { status: 413, message: 'Request body too large.' },
  'parameters.too.many': { status: 413, message: 'Too many form fields.' },
  'charset.unsupported': { status: 415, message: 'Unsupported charset.' },
  'encoding.unsupported': { status: 415, message: 'Unsupported content encoding.' },
  'request.aborted': { status: 400, message: 'The request body was cut short.' },
  'request.size.invalid': { status: 400, message: 'The request body does not match its Content-Length.' },
};

/**
 * Client errors, recognised wherever they come from: our own `HttpError`, body-parser's typed errors,
 * Express's router (a malformed percent-escape in a path parameter is a `URIError` with status 400),
 * and any other error that carries a 4xx status. Anything else is the server's fault (500).
 */
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
  if (err instanceof ExternalIssuerUnavailableError) {
    // Resource-server-only mode: the token could not be checked because the external authorization
    // server (keys, introspection) did not answer. Not the token's fault: 503, never 401 (which would
    // send the client to sign in again) — the client retries the same token.
    return {
      status: 503,
      code: 'temporarily_unavailable',
      message:
        'The authorization server cannot be reached to check the access token right now; retry shortly.',
      rpcCode: JSONRPC.INTERNAL_ERROR,
      headers: { 'Retry-After': String(ExternalIssuerUnavailableError.retryAfterSeconds) },
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
  const e = err as { type?: string; status?: number; expose?: boolean; message?: string } | undefined;
  const known = e?.type ? BODY_PROBLEMS[e.type] : undefined;
  if (known) {
    return {
      status: known.status,
      code: 'invalid_request',
      message: known.message,
      rpcCode: known.rpcCode ?? JSONRPC.INVALID_REQUEST,
      headers: {},
    };
  }
  if (err instanceof URIError) {
    return {
      status: 400,
      code: 'invalid_request',
      message: 'Malformed percent-escape in the request path.',
      rpcCode: JSONRPC.INVALID_REQUEST,
      headers: {},
    };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return {
      status: e.status,
      code: 'invalid_request',
      message: e.expose !== false && e.message ? e.message : 'Bad request.',
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
  htmlPage: HtmlErrorPage | undefined,
) {
  if (req.path === '/mcp' || req.path.startsWith('/mcp/'))
    return sendJsonRpcError(res, status, rpcCode, message);
  if (htmlPage && req.accepts(['json', 'html']) === 'html') return htmlPage(req, res, status, code, message);
  res.status(status).json({ error: code, error_description: message });
}
