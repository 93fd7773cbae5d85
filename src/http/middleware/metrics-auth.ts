/** Guards /metrics with the operator's static bearer token, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from '../errors.ts';

export function requireMetricsToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (presented && timingSafeEqual(digest(presented), expected)) return next();
    next(
      new HttpError(401, 'unauthorized', 'The metrics token is missing or wrong.', {
        'WWW-Authenticate': 'Bearer realm="metrics"',
      }),
    );
  };
}

// Hashing first makes both sides the same length, which timingSafeEqual requires.
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
