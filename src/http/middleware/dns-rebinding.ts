/**
 * DNS-rebinding protection (MCP transport spec: servers MUST validate Origin; invalid → 403).
 * The Host check guards every route; the Origin check guards /mcp (browsers legitimately post to the
 * token endpoint cross-origin, and CORS governs that). Both reuse the SDK's guards.
 */
import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/express';
import type { RequestHandler } from 'express';
import type { Config } from '../../config/config.ts';

export function hostGuard(config: Pick<Config, 'allowedHosts'>): RequestHandler {
  return hostHeaderValidation([...config.allowedHosts]);
}

export function originGuard(config: Pick<Config, 'allowedOrigins'>): RequestHandler {
  return originValidation([...config.allowedOrigins]);
}
