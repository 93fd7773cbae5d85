/**
 * The /mcp bearer gate (Express middleware, after `express.json()` and before the MCP endpoint).
 * Every request is authorized on its own (MCP: authorization "MUST be included in every HTTP request";
 * servers "MUST NOT rely on prior requests"):
 *
 *   1. `access_token` in the query string → 400 invalid_request (tokens are accepted only in the
 *      Authorization header; RFC 6750 §2.3 is not supported, MCP forbids it).
 *   2. A Bearer token → verified (verify-token.ts), its grant and user looked up (caller.ts); any
 *      failure → 401 invalid_token. No token → 401 (no error code), unless anonymous access is on.
 *   3. The request's tools/calls are judged against the tools' Access declarations
 *      (tool-calls.ts): anonymous call of a signed-in tool → 401 naming its scopes, so the client
 *      starts OAuth there; a token lacking scopes → 403 insufficient_scope (step-up).
 *   4. `req.auth` = the SDK's AuthInfo (with the Caller in `extra`), which `toNodeHandler` passes to
 *      the per-request server factory.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ANONYMOUS, type Caller } from '../access/policy.ts';
import { type Config, mcpResourceUrl } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { type CallerLookups, resolveCaller, toAuthInfo } from './caller.ts';
import { type Challenge, invalidRequest, invalidToken, noCredentials, sendChallenge } from './challenge.ts';
import { resourceMetadataUrl } from './metadata.ts';
import { challengeForCalls, toolCallsIn } from './tool-calls.ts';
import { TokenRejectedError, type TokenVerifier } from './verify-token.ts';

export interface McpGateDeps extends CallerLookups {
  readonly config: Pick<Config, 'baseUrl' | 'anonymous'>;
  readonly registry: ToolRegistry;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
}

type AuthedRequest = Request & { auth?: AuthInfo };

export function createMcpGate(deps: McpGateDeps): RequestHandler {
  const { config, registry, verifier, logger } = deps;
  const resource = { url: mcpResourceUrl(config), metadataUrl: resourceMetadataUrl(config) };
  const basic = registry.basicScopes;
  const refuse = (res: Response, challenge: Challenge) => sendChallenge(res, challenge, resource.metadataUrl);

  return async (req: AuthedRequest, res: Response, next: NextFunction) => {
    try {
      delete req.auth; // only this gate may set it
      if (queryCarriesToken(req.originalUrl)) {
        return refuse(
          res,
          invalidRequest('Access tokens are accepted only in the Authorization header.', basic),
        );
      }
      const calls = toolCallsIn(req.body);
      const header = req.headers.authorization;
      let caller: Caller = ANONYMOUS;
      if (header === undefined) {
        if (!config.anonymous) return refuse(res, noCredentials(basic));
      } else {
        const token = bearerToken(header);
        if (token === undefined) {
          return refuse(
            res,
            invalidToken('Send an OAuth access token as "Authorization: Bearer <token>".', basic),
          );
        }
        try {
          const verified = await verifier.verify(token);
          const user = await resolveCaller(verified, deps);
          caller = user;
          req.auth = toAuthInfo(
            token,
            verified,
            user,
            calls.map((c) => c.name),
            resource,
          );
        } catch (error) {
          if (!(error instanceof TokenRejectedError)) throw error;
          verifier.forget(token);
          logger.debug({ reason: error.message }, 'bearer token rejected');
          return refuse(res, invalidToken(error.message, basic));
        }
      }
      const challenge = challengeForCalls(calls, caller, registry);
      if (challenge) {
        if (challenge.status === 403) {
          // Step-up is an elevation event worth an audit line (MCP security best practices).
          logger.info(
            { user: caller.kind === 'user' ? caller.username : undefined, scopes: challenge.scopes },
            'scope step-up requested',
          );
        }
        return refuse(res, challenge);
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** RFC 7235: the scheme is case-insensitive; RFC 6750 §2.1: exactly one b64token after it. */
export function bearerToken(header: string): string | undefined {
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1];
}

function queryCarriesToken(originalUrl: string): boolean {
  const q = originalUrl.indexOf('?');
  if (q === -1) return false;
  return new URLSearchParams(originalUrl.slice(q + 1)).has('access_token');
}
