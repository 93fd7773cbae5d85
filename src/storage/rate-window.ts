/**
 * Fixed-window arithmetic shared by every RateLimitStore backend and its callers. Windows are aligned
 * to multiples of their length since the Unix epoch, so all backends and all processes agree on where
 * a window starts without coordinating.
 */

/** Start (ms since the epoch) of the window of `windowSeconds` that contains `nowMs`. */
export function windowStart(windowSeconds: number, nowMs: number): number {
  const length = windowLength(windowSeconds);
  return Math.floor(nowMs / length) * length;
}

/** End (ms since the epoch, exclusive) of the window of `windowSeconds` that contains `nowMs`. */
export function windowEndsAt(windowSeconds: number, nowMs: number): number {
  return windowStart(windowSeconds, nowMs) + windowLength(windowSeconds);
}

/** Whole seconds until the current window ends (at least 1): a Retry-After value. */
export function secondsUntilWindowEnds(windowSeconds: number, nowMs: number): number {
  return Math.max(1, Math.ceil((windowEndsAt(windowSeconds, nowMs) - nowMs) / 1000));
}

function windowLength(windowSeconds: number): number {
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
    throw new RangeError(`windowSeconds must be a positive integer, got ${windowSeconds}`);
  }
  return windowSeconds * 1000;
}
