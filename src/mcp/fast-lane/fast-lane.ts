/**
 * The MCP fast lane: the hottest /mcp requests — tools/call and tools/list, both eras — answered
 * straight from `node:http`, without Express routing, the Node↔Web stream conversion, or a
 * per-request McpServer. Measured on 2 cores (docs/benchmarks.md), those three cap the full pipeline
 * near 1.5k req/s (≈ 0.8 ms of CPU a call); the lane answers the same calls for ≈ 0.2 ms.
 *
 * The lane is a front door, not a second implementation: it answers only the plain success path
 * and hands everything else to the full pipeline unchanged.
 *  1. Before reading the body — only `POST /mcp` (no query) with a JSON body of declared length
 *     within the limit, no content coding and no `Origin` (browsers need the route's CORS answer)
 *     qualifies; anything else goes to Express untouched.
 *  2. The body is read and parsed; the SDK's own era classification narrows it further
 *     (classify.ts). If it does not qualify, Express gets the request with `req.body` already set
 *     (body-parser skips a finished stream), exactly as its JSON parser would have set it.
 *  3. The same checks as the route: the Host and Origin validators the Express guards wrap
 *     (guards.ts), then the bearer gate middleware itself (run-middleware.ts). A refusal sends the
 *     request through Express, where the same checks answer it. (A body that is not JSON is
 *     answered as Express would: guards, then 400.)
 *  4. dispatch.ts answers, or declines (→ Express/SDK).
 * Security invariant (CVE-2026-25536): no McpServer, transport or other mutable per-principal
 * object exists on this path. What is kept between requests holds no caller data: classifier
 * verdicts, Host/Origin values that passed, and tools/list results keyed by the visible tool set
 * (tools-list-cache.ts).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AuthInfo, McpRequestContext } from '@modelcontextprotocol/server';
import { isJsonContentType } from '@modelcontextprotocol/server';
import type { RequestHandler } from 'express';
import type { Caller } from '../../access/policy.ts';
import type { HeaderGuard } from '../../http/header-guards.ts';
import { currentRequest, runInRequestContext } from '../../observability/request-context.ts';
import { exceedsJsonDepth, JSON_TOO_DEEP } from '../json-depth.ts';
import { classifyFast } from './classify.ts';
import { type DispatchDeps, dispatch } from './dispatch.ts';
import type { Reply } from './encode.ts';
import { runMiddleware } from './run-middleware.ts';

export interface FastLaneOptions extends DispatchDeps {
  readonly maxBodyBytes: number;
  /** The checks Express runs before parsing the /mcp body: the Host and Origin guards (guards.ts). */
  readonly hostAllowed: HeaderGuard;
  readonly originAllowed: HeaderGuard;
  /** The checks Express runs after parsing it: the bearer gate. */
  readonly gate: readonly RequestHandler[];
  /** Who is calling, from what the gate attached (the same function the server factory uses). */
  readonly callerOf: (ctx: McpRequestContext) => Caller;
  /** Observability for answered requests (the request log line and the metrics histogram). */
  readonly observe: (req: IncomingMessage, status: number, startedAt: bigint) => void;
  readonly onError: (error: unknown) => void;
}

export interface FastLaneStats {
  answered: number;
  declined: number;
}

export interface FastLane {
  /** Wraps the full pipeline: requests the lane does not answer go to `fallback` unchanged. */
  listener(fallback: RequestListener): RequestListener;
  readonly stats: FastLaneStats;
}

/** `rawBody` as http/app.ts's JSON parser sets it: the gate checks DPoP `content_digest` against it. */
type Req = IncomingMessage & { body?: unknown; originalUrl?: string; auth?: AuthInfo; rawBody?: Buffer };

/** errors.ts's answer to a body that is not JSON on /mcp (body-parser's `entity.parse.failed`). */
const PARSE_ERROR: Reply = {
  status: 400,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: { code: -32700, message: 'Parse error: the body is not valid JSON.' },
  }),
};

/** http/app.ts's answer to a body nested deeper than the cap (json-depth.ts). */
const TOO_DEEP: Reply = {
  status: JSON_TOO_DEEP.status,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: { code: JSON_TOO_DEEP.code, message: JSON_TOO_DEEP.message },
  }),
};

const NOT_JSON = Symbol('not JSON');

/**
 * JSON as `express.json()` (body-parser, strict) reads it: a leading byte-order mark is dropped
 * (its charset decoder strips it), and only an object or an array is a body — a bare string,
 * number, `true` or `null` is a parse error there, so it is one here too.
 */
function parseLikeBodyParser(text: string): unknown {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const first = /\S/.exec(json)?.[0];
  if (first !== '{' && first !== '[') return NOT_JSON;
  try {
    return JSON.parse(json);
  } catch {
    return NOT_JSON;
  }
}

/** Headers forwarded when a tools/list cache miss is answered through the SDK handler. */
const FORWARDED = ['content-type', 'accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name'];

export function createFastLane(opts: FastLaneOptions): FastLane {
  const stats: FastLaneStats = { answered: 0, declined: 0 };

  const guardsPass = (req: IncomingMessage): boolean =>
    opts.hostAllowed(single(req.headers.host)) && opts.originAllowed(single(req.headers.origin));

  const qualifies = (req: IncomingMessage): boolean => {
    if (req.method !== 'POST' || req.url !== '/mcp') return false;
    const h = req.headers;
    if (h['transfer-encoding'] !== undefined || h['content-encoding'] !== undefined) return false;
    // Browser requests need CORS headers, which only the Express route (http/middleware/mcp-cors.ts) sets.
    if (h.origin !== undefined) return false;
    const length = Number(h['content-length']);
    if (!Number.isSafeInteger(length) || length <= 0 || length > opts.maxBodyBytes) return false;
    const type = h['content-type'];
    return type !== undefined && isJsonContentType(type) && !/charset=(?!"?utf-8"?\s*(;|$))/i.test(type);
  };

  async function serve(
    req: Req,
    res: ServerResponse,
    text: string,
    fallback: RequestListener,
    startedAt: bigint,
  ) {
    req.originalUrl = req.url; // what Express's router sets; the guards and gate read it
    const body = parseLikeBodyParser(text);
    const refusal = body === NOT_JSON ? PARSE_ERROR : exceedsJsonDepth(body) ? TOO_DEEP : undefined;
    if (refusal) {
      // Express would answer this right after its JSON parser, after the guards and before the
      // gate, and the stream is consumed now: answer as it does (asserted by the fast-lane tests).
      if (!guardsPass(req)) return decline(req, res, undefined, fallback);
      send(res, refusal);
      opts.observe(req, refusal.status, startedAt);
      return;
    }
    req.body = body; // what body-parser would have set
    const request = classifyFast(req.headers, body);
    // With sessions, every 2025-era request belongs to one (its transport, its checks): not ours.
    if (!request || (request.era === 'legacy' && opts.config.mcpSessions))
      return decline(req, res, body, fallback);
    if (!guardsPass(req)) return decline(req, res, body, fallback);
    if ((await runMiddleware(opts.gate, req)) !== 'pass') return decline(req, res, body, fallback);
    const caller = opts.callerOf({ authInfo: req.auth } as McpRequestContext);
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const answer = await dispatch(opts, { request, caller, authInfo: req.auth, headers, body });
    if (!answer) return decline(req, res, body, fallback);
    send(res, answer);
    stats.answered++;
    opts.observe(req, answer.status, startedAt);
  }

  function decline(req: Req, res: ServerResponse, body: unknown, fallback: RequestListener) {
    stats.declined++;
    delete req.auth; // only the gate, run again by Express, may set it
    req.body = body;
    fallback(req, res);
  }

  return {
    stats,
    listener(fallback) {
      return (req: Req, res) => {
        if (!qualifies(req)) {
          fallback(req, res);
          return;
        }
        // Timed from arrival, as the Express request log is (it starts before the body is read).
        const startedAt = process.hrtime.bigint();
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.once('error', () => res.destroy());
        // Run in this request's context: a socket's 'end' fires outside it, and the tools
        // (quick_login's throttle) and the audit log read the caller's address from it.
        const context = currentRequest();
        req.once('end', () =>
          runInRequestContext(context, () => {
            const raw = Buffer.concat(chunks);
            req.rawBody = raw;
            const text = raw.toString('utf8');
            serve(req, res, text, fallback, startedAt).catch((error: unknown) => {
              opts.onError(error);
              if (!res.headersSent) {
                // The tool may have run: never re-run it through the fallback.
                send(res, {
                  status: 500,
                  headers: { 'content-type': 'application/json' },
                  body: '{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}',
                });
              } else res.destroy();
            });
          }),
        );
      };
    },
  };
}

/** A repeated header arrives as an array: not a value a guard can vouch for. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? '\u0000' : value;
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}
