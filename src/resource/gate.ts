/**
 * The /mcp bearer gate (Express middleware, after `express.json()` and before the MCP endpoint).
 * Every request is authorized on its own (MCP: authorization "MUST be included in every HTTP request";
 * servers "MUST NOT rely on prior requests"):
 *
 *   1. `access_token` in the query string → 400 invalid_request (tokens are accepted only in the
 *      Authorization header; RFC 6750 §2.3 is not supported, MCP forbids it).
 *   2. A Bearer token → verified (verify-token.ts), its grant and user looked up (caller.ts: one joined
 *      read, or none when the revocation-aware cache holds them — grant-cache.ts); any
 *      failure → 401 invalid_token. No token → 401 (no error code), unless anonymous access is on.
 *      A DPoP-bound token (`cnf.jkt`) only as `Authorization: DPoP` with a valid proof (dpop.ts);
 *      presented as Bearer, or with a bad proof → 401 with a DPoP challenge.
 *   3. The request's tools/calls are judged against the tools' Access declarations
 *      (tool-calls.ts): anonymous call of a signed-in tool → 401 naming its scopes, so the client
 *      starts OAuth there; a token lacking scopes → 403 insufficient_scope (step-up), noted on the
 *      grant through `onStepUp` (see oauth/step-up.ts).
 *   4. `req.auth` = the SDK's AuthInfo (with the Caller in `extra`), which `toNodeHandler` passes to
 *      the per-request server factory.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ANONYMOUS, type Caller } from '../access/policy.ts';
import { type Config, mcpResourceUrl } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { ReplayCache } from '../storage/types.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { type CallerLookups, resolveCaller, toAuthInfo } from './caller.ts';
import {
  type Challenge,
  type DpopScheme,
  invalidDpopProof,
  invalidRequest,
  invalidToken,
  noCredentials,
  sendChallenge,
  useDpopNonce,
} from './challenge.ts';
import { DPOP_ALGORITHMS, DpopNonceError, DpopProofError, verifyDpopProof } from './dpop.ts';
import type { DpopNonces } from './dpop-nonce.ts';
import { resourceMetadataUrl } from './metadata.ts';
import { challengeForCalls, toolCallsIn } from './tool-calls.ts';
import { type RejectionReason, TokenRejectedError, type TokenVerifier } from './verify-token.ts';

export interface McpGateDeps extends CallerLookups {
  readonly config: Pick<Config, 'baseUrl' | 'anonymous'>;
  readonly registry: ToolRegistry;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** Remembers DPoP proof ids (each proof is accepted once). */
  readonly replay: ReplayCache;
  /**
   * Told of every 403 insufficient_scope answer (the authorization server notes it on the grant, so
   * a client that answers with a plain refresh — which cannot widen a grant — is sent to authorize).
   */
  readonly onStepUp?: (grantId: string, scopes: readonly string[]) => Promise<void>;
  /** Told of every refused token, with why (the security metrics). */
  readonly onRejected?: (reason: RejectionReason | 'dpop') => void;
  /** Server DPoP nonces, required in every proof when set (SEKISHO_DPOP_NONCES). */
  readonly dpopNonces?: DpopNonces;
}

/** `rawBody`: the bytes the JSON parser read (http/app.ts, the fast lane), for DPoP `content_digest`. */
type AuthedRequest = Request & { auth?: AuthInfo; rawBody?: Buffer };

const DPOP: DpopScheme = { scheme: 'DPoP', algs: DPOP_ALGORITHMS };

export function createMcpGate(deps: McpGateDeps): RequestHandler {
  const { config, registry, verifier, logger } = deps;
  const resource = { url: mcpResourceUrl(config), metadataUrl: resourceMetadataUrl(config) };
  const basic = registry.basicScopes;
  const refuse = (res: Response, challenge: Challenge) => {
    // RFC 9449 §9: a DPoP challenge names the nonce to use (only refusals touch the response: the fast
    // lane takes any use of it as one).
    if (challenge.dpop && deps.dpopNonces) res.setHeader('DPoP-Nonce', deps.dpopNonces.current());
    sendChallenge(res, challenge, resource.metadataUrl);
  };
  /**
   * Proofs this request already passed. The fast lane runs this gate and may then hand the request
   * to Express, which runs it again: the same proof on the same request is not a replay.
   */
  const accepted = new WeakMap<object, string>();

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
      let usedDpop = false;
      if (header === undefined) {
        if (!config.anonymous) return refuse(res, noCredentials(basic));
      } else {
        const presented = credentials(header);
        if (presented === undefined) {
          return refuse(
            res,
            invalidToken('Send an OAuth access token as "Authorization: Bearer <token>".', basic),
          );
        }
        const { token, scheme } = presented;
        const dpop = scheme === 'dpop' ? DPOP : undefined;
        try {
          const verified = await verifier.verify(token);
          if (verified.jkt !== undefined && scheme !== 'dpop') {
            return refuse(res, {
              ...invalidToken(
                'This access token is DPoP-bound: send it as "Authorization: DPoP" with a proof.',
                basic,
              ),
              dpop: DPOP,
            });
          }
          if (scheme === 'dpop') {
            const proof = req.headers.dpop;
            if (verified.jkt === undefined) {
              return refuse(res, {
                ...invalidToken('This access token is not DPoP-bound; send it as Bearer.', basic),
                dpop,
              });
            }
            if (typeof proof !== 'string' || proof === '') {
              return refuse(res, {
                ...invalidDpopProof('Send exactly one DPoP proof in the DPoP header.', basic),
                dpop,
              });
            }
            if (accepted.get(req) !== proof) {
              await verifyDpopProof({
                proof,
                method: req.method,
                url: resource.url,
                accessToken: token,
                jkt: verified.jkt,
                body: req.rawBody,
                replay: deps.replay,
                nonces: deps.dpopNonces,
              });
              accepted.set(req, proof);
            }
          }
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
          if (error instanceof DpopNonceError) {
            return refuse(res, { ...useDpopNonce(error.message, basic), dpop });
          }
          if (error instanceof DpopProofError) {
            logger.debug({ reason: error.message }, 'DPoP proof rejected');
            deps.onRejected?.('dpop');
            return refuse(res, { ...invalidDpopProof(error.message, basic), dpop });
          }
          if (!(error instanceof TokenRejectedError)) throw error;
          verifier.forget(token);
          logger.debug({ reason: error.message }, 'bearer token rejected');
          deps.onRejected?.(error.reason);
          return refuse(res, { ...invalidToken(error.message, basic), ...(dpop ? { dpop } : {}) });
        }
        usedDpop = dpop !== undefined;
      }
      const found = challengeForCalls(calls, caller, registry);
      const challenge = found && usedDpop ? { ...found, dpop: DPOP } : found;
      if (challenge) {
        if (challenge.status === 403) {
          // Step-up is an elevation event worth an audit line (MCP security best practices).
          logger.info(
            { user: caller.kind === 'user' ? caller.username : undefined, scopes: challenge.scopes },
            'scope step-up requested',
          );
          if (caller.kind === 'user' && caller.grantId !== undefined) {
            await deps.onStepUp?.(caller.grantId, challenge.scopes);
          }
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

/** `Bearer <token>` (RFC 6750) or `DPoP <token>` (RFC 9449 §7.1). */
function credentials(header: string): { token: string; scheme: 'bearer' | 'dpop' } | undefined {
  const match = /^(Bearer|DPoP) +([^\s]+) *$/i.exec(header);
  if (!match) return undefined;
  return { token: match[2]!, scheme: match[1]!.toLowerCase() === 'dpop' ? 'dpop' : 'bearer' };
}

function queryCarriesToken(originalUrl: string): boolean {
  const q = originalUrl.indexOf('?');
  if (q === -1) return false;
  return new URLSearchParams(originalUrl.slice(q + 1)).has('access_token');
}
