/**
 * The resource-server half of Sekisho, assembled: the RFC 9728 metadata routes, the /mcp bearer gate,
 * and the two functions the MCP server factory needs to learn who is calling. `server.ts` wires it
 * between the authorization server (keys, storage) and the MCP endpoint.
 */
import type { McpRequestContext } from '@modelcontextprotocol/server';
import type { RequestHandler } from 'express';
import { ANONYMOUS, type Caller, type SignedInCaller } from '../access/policy.ts';
import { type Config, mcpResourceUrl } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { ReplayCache } from '../storage/types.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import {
  type CallerLookups,
  callerFromAuthInfo,
  recheckUser,
  resolveCaller,
  toolCallsFromAuthInfo,
  type UserCaller,
} from './caller.ts';
import type { DpopNonces } from './dpop-nonce.ts';
import { createMcpGate, type McpGateDeps } from './gate.ts';
import { protectedResourceMetadataRoutes, resourceMetadataUrl } from './metadata.ts';
import {
  createTokenVerifier,
  type KeySource,
  TokenRejectedError,
  type TokenVerifier,
} from './verify-token.ts';

export interface ResourceServerDeps extends CallerLookups {
  readonly config: Pick<Config, 'baseUrl' | 'anonymous' | 'externalIssuer'>;
  readonly registry: ToolRegistry;
  /** The authorization server's public signing keys (JWKS), re-read on an unknown `kid`. */
  readonly keys: KeySource;
  readonly logger: Logger;
  /** Remembers DPoP proof ids (shared across instances when the cache is). */
  readonly replay: ReplayCache;
  /** See `McpGateDeps.onStepUp`. */
  readonly onStepUp?: (grantId: string, scopes: readonly string[]) => Promise<void>;
  /** See `McpGateDeps.onRejected`. */
  readonly onRejected?: McpGateDeps['onRejected'];
  /** Server DPoP nonces required at /mcp (SEKISHO_DPOP_NONCES); undefined = not asked for. */
  readonly dpopNonces?: DpopNonces;
  /** Another verifier than the built-in AS's: the external one (resource-server-only mode), or tests' tuning. */
  readonly verifier?: TokenVerifier;
}

export interface ResourceServer {
  /** The canonical MCP URL (RFC 8707 resource) and its RFC 9728 metadata document. */
  readonly resourceUrl: string;
  readonly metadataUrl: string;
  readonly metadataRoutes: RequestHandler;
  readonly gate: RequestHandler;
  readonly verifier: TokenVerifier;
  readonly callerOf: (ctx: McpRequestContext) => Caller;
  readonly calledTools: (ctx: McpRequestContext) => readonly string[];
  /** The same checks the gate makes, for a token handed over some other way; undefined if refused. */
  authenticate(accessToken: string): Promise<SignedInCaller | undefined>;
  /** A user caller as they are now (role re-read); undefined when their grant or account is gone. */
  recheck(caller: UserCaller): Promise<UserCaller | undefined>;
}

export function createResourceServer(deps: ResourceServerDeps): ResourceServer {
  const verifier =
    deps.verifier ??
    createTokenVerifier({
      issuer: deps.config.baseUrl,
      audience: mcpResourceUrl(deps.config),
      keys: deps.keys,
    });
  return {
    resourceUrl: mcpResourceUrl(deps.config),
    metadataUrl: resourceMetadataUrl(deps.config),
    verifier,
    metadataRoutes: protectedResourceMetadataRoutes(deps.config, deps.registry.basicScopes),
    gate: createMcpGate({ ...deps, verifier }),
    callerOf: (ctx) => callerFromAuthInfo(ctx.authInfo) ?? ANONYMOUS,
    calledTools: (ctx) => toolCallsFromAuthInfo(ctx.authInfo),
    recheck: (caller) => recheckUser(caller, deps),
    async authenticate(accessToken) {
      try {
        const verified = await verifier.verify(accessToken);
        // A DPoP-bound token is only good with a proof, which a token handed over this way lacks.
        if (verified.jkt !== undefined) return undefined;
        return await resolveCaller(verified, deps);
      } catch (error) {
        if (error instanceof TokenRejectedError) return undefined;
        throw error;
      }
    },
  };
}
