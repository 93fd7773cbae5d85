/**
 * Prometheus metrics: process defaults plus one request histogram labelled by route *pattern*
 * (never the raw path, which would let clients mint unbounded label values) and status class.
 * Each Sekisho instance owns its registry, so tests running several servers in one process don't clash.
 */
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly middleware: RequestHandler;
  readonly handler: RequestHandler;
}

const KNOWN_PREFIXES = [
  '/mcp',
  '/oauth',
  '/.well-known',
  '/interaction',
  '/account',
  '/healthz',
  '/readyz',
  '/metrics',
];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'sekisho_http_request_duration_seconds',
    help: 'HTTP request duration by route prefix, method and status class',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const middleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      const route = KNOWN_PREFIXES.find((p) => req.path === p || req.path.startsWith(`${p}/`)) ?? 'other';
      end({ route, method: req.method, status: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  };
  const handler: RequestHandler = async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };
  return { registry, middleware, handler };
}
