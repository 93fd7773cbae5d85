/**
 * The /mcp endpoint, both protocol eras. 2026-07-28 traffic (per-request envelopes,
 * `server/discover`) is served by the SDK's `createMcpHandler`. 2025-era traffic goes, by the SDK's
 * own routing predicate (`isLegacyRequest`), to sessions (sessions/legacy-sessions.ts) — or, with
 * `SEKISHO_MCP_SESSIONS=0`, to `createMcpHandler`'s stateless legacy serving. This module performs no
 * Host/Origin validation and no token verification — `http/app.ts` mounts those in front.
 */
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  isLegacyRequest,
  type McpHandlerRequestOptions,
  type McpHttpHandler,
  type McpServerFactory,
} from '@modelcontextprotocol/server';
import type { Request, RequestHandler, Response } from 'express';
import type { Caller } from '../access/policy.ts';
import type { McpSessionSettings } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { ServerFactoryDeps } from './server-factory.ts';
import type { SessionDirectory } from './sessions/directory.ts';
import { createLegacySessions, type LegacySessions } from './sessions/legacy-sessions.ts';

export interface McpEndpoint {
  readonly handle: RequestHandler;
  readonly handler: McpHttpHandler;
  /** 2025-era sessions; undefined when 2025-era clients are served statelessly. */
  readonly sessions: LegacySessions | undefined;
  close(): Promise<void>;
}

export interface McpEndpointOptions {
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** With sessions: the factory's deps (a session's server is built from them) and the limits. */
  readonly sessions?: {
    readonly deps: ServerFactoryDeps;
    readonly settings: McpSessionSettings;
    /** The caller as they are now (after a user changed), undefined when they are gone. */
    readonly recheck?: (caller: Caller) => Promise<Caller | undefined>;
    /** Shared with other instances (Redis); in process when absent. */
    readonly directory?: SessionDirectory;
  };
}

export function createMcpEndpoint(factory: McpServerFactory, opts: McpEndpointOptions): McpEndpoint {
  const onerror = (error: Error) => opts.logger.debug({ err: error.message }, 'mcp request rejected');
  const handler = createMcpHandler(factory, {
    legacy: opts.sessions ? 'reject' : 'stateless',
    maxRequestBodySize: opts.maxBodyBytes,
    onerror,
  });
  const sessions = opts.sessions
    ? createLegacySessions({
        factory: opts.sessions.deps,
        settings: opts.sessions.settings,
        maxBodyBytes: opts.maxBodyBytes,
        logger: opts.logger,
        onerror,
        ...(opts.sessions.recheck && { recheck: opts.sessions.recheck }),
        ...(opts.sessions.directory && { directory: opts.sessions.directory }),
      })
    : undefined;
  const fetch = sessions
    ? async (request: globalThis.Request, options: McpHandlerRequestOptions = {}) =>
        (await isLegacyRequest(request, options.parsedBody, { maxRequestBodySize: opts.maxBodyBytes }))
          ? sessions.fetch(request, options)
          : handler.fetch(request, options)
    : handler.fetch;
  const node = toNodeHandler({ fetch }, { maxRequestBodySize: opts.maxBodyBytes, onerror });
  const handle: RequestHandler = (req: Request, res: Response) =>
    node(req, flushingSseHeaders(res), req.body);
  return {
    handle,
    handler,
    sessions,
    async close() {
      await sessions?.close();
      await handler.close();
    },
  };
}

/**
 * Sends an SSE answer's headers at once. Node holds headers back until the first body write, and a
 * GET stream may have nothing to say for a long time (the first keep-alive comes after 15 s): the
 * client would wait that long to learn its stream is open.
 */
function flushingSseHeaders(res: Response): Response {
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: Record<string, string>) => Response;
  (res as { writeHead: unknown }).writeHead = (status: number, headers?: Record<string, string>) => {
    const result = writeHead(status, headers);
    const type = headers?.['content-type'] ?? headers?.['Content-Type'];
    if (type?.startsWith('text/event-stream')) res.flushHeaders();
    return result;
  };
  return res;
}
