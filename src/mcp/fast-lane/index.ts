/**
 * Assembles the fast lane from the same parts the full pipeline uses: the server factory's deps
 * (config, registry, services, callerOf), the route's guards and gate, the MCP endpoint (for
 * tools/list cache misses), the logger and the metrics registry. `server.ts` puts its listener in
 * front of the Express app.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { mcpResourceUrl } from '../../config/config.ts';
import { hostAllowed, originAllowed } from '../../http/header-guards.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ObserveRequest } from '../../observability/request-observer.ts';
import type { McpEndpoint } from '../endpoint.ts';
import { SERVER_INFO, type ServerFactoryDeps } from '../server-factory.ts';
import { createFastLane, type FastLane } from './fast-lane.ts';
import { createToolsListCache } from './tools-list-cache.ts';

export type { FastLane } from './fast-lane.ts';

export interface McpFastLaneParts {
  /** The very object given to `createServerFactory`, so both paths see the same tools and callers. */
  readonly factory: ServerFactoryDeps;
  readonly endpoint: McpEndpoint;
  /** The /mcp bearer gate (and anything else mounted after the JSON parser), in route order. */
  readonly gate: readonly RequestHandler[];
  readonly logger: Logger;
  /** The log line and duration sample Express makes for the requests it answers. */
  readonly observe: ObserveRequest;
}

export function createMcpFastLane(parts: McpFastLaneParts): FastLane {
  const { factory, logger, observe } = parts;
  const { config } = factory;
  return createFastLane({
    config,
    registry: factory.registry,
    services: factory.services,
    callerOf: factory.callerOf,
    serverInfo: SERVER_INFO,
    // A profile that adds tools to every server (the conformance fixture) changes tools/list:
    // leave it to the SDK then.
    ...(factory.extend === undefined && {
      toolsList: createToolsListCache(parts.endpoint.handler, mcpResourceUrl(config)),
    }),
    maxBodyBytes: config.maxBodyBytes,
    hostAllowed: hostAllowed(config),
    originAllowed: originAllowed(config),
    gate: parts.gate,
    observe: (req: IncomingMessage, status: number, startedAt: bigint) =>
      observe(req.method ?? 'POST', '/mcp', status, startedAt),
    onError: (error) => logger.error({ err: error }, 'mcp fast lane failed'),
  });
}
