/**
 * What can go wrong with an external authorization server (resource-server-only mode). Kept apart
 * from `TokenRejectedError` on purpose: a token we could not check because the server is down is not
 * a bad token. Answering 401 then would send every client back to sign in; the edge answers 503
 * with Retry-After instead (http/errors.ts), and the client retries the same token.
 */

/** The external server could not be reached or answered nonsense right now (timeout, 5xx, bad JSON). */
export class ExternalIssuerUnavailableError extends Error {
  override readonly name = 'ExternalIssuerUnavailableError';
  static readonly retryAfterSeconds = 5;
}

/**
 * Start-up could not learn the external server's metadata: unreachable for the whole start-up
 * window, or its documents are wrong (an `issuer` that differs from the configured one, no
 * `jwks_uri`, …). `main.ts` prints the message as one line and exits 1.
 */
export class ExternalIssuerSetupError extends Error {
  override readonly name = 'ExternalIssuerSetupError';
}
