/**
 * One log line per request: method, path (without the query string, which may carry codes or
 * state), status and duration. Headers are never logged, so Authorization and cookies cannot leak.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '../../observability/logger.ts';

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const path = req.originalUrl.split('?')[0];
      logger.info(
        { method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    });
    next();
  };
}
