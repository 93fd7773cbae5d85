/**
 * The HTTP application: which route lives where, in the order requests meet it.
 *
 *   request log and metrics → Host guard → health → /metrics (token) → / (home) → [authorization server, issue #3] → /mcp (methods (405) →
 *   Origin guard → CORS → JSON body (size, syntax, nesting depth) → [bearer gate, issue #4] → MCP endpoint) → 404 → error mapper
 */
import express, { type Express, type RequestHandler } from 'express';
import type { Config } from '../config/config.ts';
import type { McpEndpoint } from '../mcp/endpoint.ts';
import { exceedsJsonDepth, JSON_TOO_DEEP } from '../mcp/json-depth.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ObserveRequest } from '../observability/request-observer.ts';
import { createErrorHandler, type HtmlErrorPage, HttpError, sendJsonRpcError } from './errors.ts';
import { healthRoutes, type ReadinessCheck } from './health.ts';
import { hostGuard, originGuard } from './middleware/dns-rebinding.ts';
import { mcpCors } from './middleware/mcp-cors.ts';
import { mcpMethods } from './middleware/mcp-methods.ts';
import { requireMetricsToken } from './middleware/metrics-auth.ts';
import { requestLog } from './middleware/request-log.ts';

export interface AppParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly mcp: McpEndpoint;
  readonly readiness: readonly ReadinessCheck[];
  readonly isDraining: () => boolean;
  /** RFC 9728 protected-resource metadata routes (/.well-known/oauth-protected-resource…). */
  readonly resourceMetadata?: RequestHandler;
  /** Middleware that runs on /mcp before the MCP endpoint (the bearer gate). */
  readonly mcpGate?: readonly RequestHandler[];
  /** The built-in authorization server: /oauth/…, both discovery documents, /interaction, /account. */
  readonly authorizationServer?: RequestHandler;
  readonly metrics?: Metrics;
  /** Each answered request's log line and duration sample (observability/request-observer.ts). */
  readonly observe: ObserveRequest;
  /** `GET /`: what this server is and how to connect (http/home.ts). */
  readonly home?: RequestHandler;
  /** How errors are shown to browsers (the authorization server's error page); JSON otherwise. */
  readonly errorPage?: HtmlErrorPage;
}

export function createApp(parts: AppParts): Express {
  const { config, logger, mcp } = parts;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestLog(parts.observe));
  app.use(hostGuard(config));
  app.use(healthRoutes(parts.readiness, parts.isDraining));
  if (parts.metrics && config.metricsToken) {
    app.get('/metrics', requireMetricsToken(config.metricsToken), parts.metrics.handler);
  }

  if (parts.home) app.get('/', parts.home);
  if (parts.resourceMetadata) app.use(parts.resourceMetadata);
  // oidc-provider parses its own bodies: no body parser may run before it.
  if (parts.authorizationServer) app.use(parts.authorizationServer);

  const mcpJson = express.json({
    limit: config.maxBodyBytes,
    type: ['application/json', 'application/*+json'],
    // The bytes as received, for a DPoP proof's content_digest (resource/dpop.ts): a reference, no copy.
    verify: (req, _res, buf) => {
      (req as typeof req & { rawBody?: Buffer }).rawBody = buf;
    },
  });
  app.all(
    '/mcp',
    mcpMethods(),
    originGuard(config),
    mcpCors(),
    mcpJson,
    rejectDeepJson,
    ...(parts.mcpGate ?? []),
    mcp.handle,
  );

  app.use((req, _res, next) =>
    next(new HttpError(404, 'not_found', `No route for ${req.method} ${req.path}`)),
  );
  app.use(createErrorHandler(logger, parts.errorPage));
  return app;
}

/** The nesting cap (`mcp/json-depth.ts`), checked as soon as the body is parsed, as the fast lane does. */
const rejectDeepJson: RequestHandler = (req, res, next) => {
  if (!exceedsJsonDepth(req.body)) return next();
  sendJsonRpcError(res, JSON_TOO_DEEP.status, JSON_TOO_DEEP.code, JSON_TOO_DEEP.message);
};
