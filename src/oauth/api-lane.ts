/**
 * The OAuth API lane: oidc-provider's machine-to-machine endpoints — token, introspection,
 * revocation and the JWKS — handed to the provider straight from `node:http`, in front of Express.
 *
 * Express adds nothing to these requests but cost. oidc-provider parses their bodies and answers
 * every error itself (`providerPassThrough` in index.ts only forwards them), and of what Express runs
 * first only three things concern them (http/app.ts): the request log line, the duration sample and
 * the Host guard. Running Express meant its router's layers before the provider and Express's own
 * request and response prototypes set on Node's objects, which Koa then reads through — measured at
 * about a third of a refresh grant's server CPU (docs/benchmarks.md). Here the same three things
 * happen, in the same order: the Host guard's predicate (a refusal goes to Express, whose guard
 * answers the 403), the one log line and sample when the answer is sent, then the provider.
 *
 * Pages for people (authorization, interactions, account, device) and registration (its own CORS and
 * limits in Express) stay in Express. SEKISHO_FAST_LANE=0 turns this lane off with the MCP one.
 */
import type { RequestListener } from 'node:http';
import type { HeaderGuard } from '../http/header-guards.ts';
import { type ObserveRequest, observeWhenFinished } from '../observability/request-observer.ts';
import { OAUTH_ROUTES } from './routes.ts';

/** Exact paths (no query) of the endpoints the lane serves. */
export const API_LANE_PATHS: ReadonlySet<string> = new Set([
  OAUTH_ROUTES.token,
  OAUTH_ROUTES.introspection,
  OAUTH_ROUTES.revocation,
  OAUTH_ROUTES.jwks,
]);

export interface OAuthApiLaneOptions {
  /** oidc-provider's request handler (the current provider's: keys can be rotated under it). */
  readonly handle: RequestListener;
  readonly hostAllowed: HeaderGuard;
  readonly observe: ObserveRequest;
}

/** Wraps the full pipeline: every other request goes to `fallback` unchanged. */
export function oauthApiLane(opts: OAuthApiLaneOptions): (fallback: RequestListener) => RequestListener {
  return (fallback) => (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (!API_LANE_PATHS.has(path) || !opts.hostAllowed(req.headers.host)) return fallback(req, res);
    observeWhenFinished(opts.observe, req.method, res, () => path);
    opts.handle(req, res);
  };
}
