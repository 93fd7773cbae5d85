/**
 * One log line and one duration sample per request that Express answers
 * (`observability/request-observer.ts` says what the line holds). A handler may add a few safe fields
 * to its request's line with `noteForRequestLog` (the authorization server adds the OAuth error code
 * of a failed token, registration, revocation or introspection request, so operators see
 * `invalid_grant` rather than a bare 400).
 */
import type { RequestHandler } from 'express';
import { type ObserveRequest, observeWhenFinished } from '../../observability/request-observer.ts';

export function requestLog(observe: ObserveRequest): RequestHandler {
  return (req, res, next) => {
    observeWhenFinished(observe, req.method, res, () => req.originalUrl.split('?')[0]!);
    next();
  };
}
