/**
 * The /mcp endpoint: both protocol eras through the SDK's `createMcpHandler` (2026-07-28 per-request
 * envelopes and `server/discover`; 2025-era `initialize` traffic served statelessly). This module
 * performs no Host/Origin validation and no token verification — `http/app.ts` mounts those in front.
 */
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type McpHttpHandler, type McpServerFactory } from '@modelcontextprotocol/server';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../observability/logger.ts';

export interface McpEndpoint {
  readonly handle: RequestHandler;
  readonly handler: McpHttpHandler;
  close(): Promise<void>;
}

export function createMcpEndpoint(
  factory: McpServerFactory,
  opts: { maxBodyBytes: number; logger: Logger },
): McpEndpoint {
  const onerror = (error: Error) => opts.logger.debug({ err: error.message }, 'mcp request rejected');
  const handler = createMcpHandler(factory, {
    legacy: 'stateless',
    maxRequestBodySize: opts.maxBodyBytes,
    onerror,
  });
  const node = toNodeHandler(handler, { maxRequestBodySize: opts.maxBodyBytes, onerror });
  const handle: RequestHandler = (req: Request, res: Response) => node(req, res, req.body);
  return { handle, handler, close: () => handler.close() };
}
