/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for /mcp. MCP clients find our authorization
 * server through this document, so every value must match what the AS and the tokens say exactly:
 *
 *  - `resource` = the canonical MCP URL, identical to the resource identifier the well-known URL is
 *    derived from (RFC 9728 §3.3; clients discard a mismatching document) and to the tokens' `aud`;
 *  - `authorization_servers` = [the issuer], character for character (no trailing-slash drift): our
 *    own, or in resource-server-only mode the external one (SEKISHO_EXTERNAL_ISSUER) as configured;
 *  - `scopes_supported` = the minimal basic set derived from the tool registry, never `offline_access`
 *    (MCP authorization: "SHOULD NOT include offline_access").
 *
 * Served at the path-suffixed location (`/.well-known/oauth-protected-resource/mcp`, probed first) and
 * at the root form, with CORS so browser-based clients can read it.
 */

import { type RequestHandler, type Response, Router } from 'express';
import { type Config, mcpResourceUrl } from '../config/config.ts';
import { DPOP_ALGORITHMS } from './dpop.ts';

export const PRM_ROOT_PATH = '/.well-known/oauth-protected-resource';

export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  /** RFC 9728 §2: DPoP proofs this resource accepts; bound tokens are optional (Bearer still works). */
  readonly dpop_signing_alg_values_supported: readonly string[];
  readonly dpop_bound_access_tokens_required: boolean;
  readonly resource_name: string;
  readonly resource_documentation?: string;
}

export function protectedResourceMetadata(
  config: Pick<Config, 'baseUrl' | 'externalIssuer'>,
  basicScopes: readonly string[],
): ProtectedResourceMetadata {
  return Object.freeze({
    resource: mcpResourceUrl(config),
    authorization_servers: Object.freeze([config.externalIssuer?.issuer ?? config.baseUrl]),
    scopes_supported: Object.freeze(basicScopes.filter((s) => s !== 'offline_access')),
    bearer_methods_supported: Object.freeze(['header']),
    dpop_signing_alg_values_supported: Object.freeze([...DPOP_ALGORITHMS]),
    dpop_bound_access_tokens_required: false,
    resource_name: 'Sekisho MCP server',
  });
}

/** The URL clients get in `resource_metadata` (RFC 9728 §3.1: well-known segment before the path). */
export function resourceMetadataUrl(config: Pick<Config, 'baseUrl'>): string {
  const resource = new URL(mcpResourceUrl(config));
  return `${resource.origin}${PRM_ROOT_PATH}${resource.pathname.replace(/\/+$/, '')}`;
}

/** GET/HEAD/OPTIONS routes for both well-known forms. */
export function protectedResourceMetadataRoutes(
  config: Pick<Config, 'baseUrl' | 'externalIssuer'>,
  basicScopes: readonly string[],
): RequestHandler {
  const document = JSON.stringify(protectedResourceMetadata(config, basicScopes));
  // The path-suffixed form as the app sees it. With a base URL that has a path (behind a prefix-
  // stripping proxy) clients ask for /.well-known/oauth-protected-resource/<prefix>/mcp at the origin.
  const suffixed = new URL(resourceMetadataUrl(config)).pathname;
  const paths = [...new Set([PRM_ROOT_PATH, `${PRM_ROOT_PATH}/mcp`, suffixed])];

  const router = Router();
  for (const path of paths) {
    router.options(path, (_req, res) => {
      cors(res);
      res.status(204).end();
    });
    router.get(path, (_req, res) => {
      cors(res);
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('application/json').send(document);
    });
  }
  return router;
}

/** Public documents: any origin may read them; no credentials are involved. */
function cors(res: Response): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'MCP-Protocol-Version, Content-Type');
  res.setHeader('Access-Control-Max-Age', '86400');
}
