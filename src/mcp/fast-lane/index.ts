/**
 * Assembles the fast lane from the same parts the full pipeline uses: the server factory's deps
 * (config, registry, services, callerOf), the route's guards and gate, the MCP endpoint (for
 * tools/list cache misses), the logger and the metrics registry. `server.ts` puts its listener in
 * front of the Express app.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { Histogram } from 'prom-client';
import { mcpResourceUrl } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { McpEndpoint } from '../endpoint.ts';
import { SERVER_INFO, type ServerFactoryDeps } from '../server-factory.ts';
import { createFastLane, type FastLane } from './fast-lane.ts';
import { hostAllowed, originAllowed } from './guards.ts';
import { createToolsListCache } from './tools-list-cache.ts';

export type { FastLane } from './fast-lane.ts';

export interface McpFastLaneParts {
  /** The very object given to `createServerFactory`, so both paths see the same tools and callers. */
  readonly factory: ServerFactoryDeps;
  readonly endpoint: McpEndpoint;
  /** The /mcp bearer gate (and anything else mounted after the JSON parser), in route order. */
  readonly gate: readonly RequestHandler[];
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

export function createMcpFastLane(parts: McpFastLaneParts): FastLane {
  const { factory, logger } = parts;
  const { config } = factory;
  // The request line has a fixed shape (method, constant path, status, ms) that cannot carry a
  // secret, so it skips the logger's redaction pass — ≈4 µs of the ≈5 µs a line costs in isolation.
  const requestLog = logger.child({}, { redact: [] });
  const histogram = parts.metrics?.registry.getSingleMetric('sekisho_http_request_duration_seconds') as
    | Histogram
    | undefined;
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
    // The same log line and histogram sample that request-log.ts and metrics.ts produce in Express.
    observe(req: IncomingMessage, status: number, startedAt: bigint) {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      requestLog.info(
        { method: req.method, path: '/mcp', status, ms: Math.round(seconds * 10_000) / 10 },
        'request',
      );
      histogram?.observe(
        { route: '/mcp', method: req.method ?? 'POST', status: `${Math.floor(status / 100)}xx` },
        seconds,
      );
    },
    onError: (error) => logger.error({ err: error }, 'mcp fast lane failed'),
  });
}
