/**
 * Builds the McpServer for one request. The SDK asks for a fresh instance per HTTP request (servers
 * and transports are never shared between principals — CVE-2026-25536), so this function is on the
 * hot path: everything that can be computed once (registry, schemas) is computed by the caller.
 */
import {
  type McpRequestContext,
  McpServer,
  type McpServerFactory,
  type ServerOptions,
} from '@modelcontextprotocol/server';
import { type Caller, decideAccess } from '../access/policy.ts';
import type { Config } from '../config/config.ts';
import { type AnyTool, accessForCall, describeFor, toolError } from '../tools/define-tool.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { ToolServices } from '../tools/services.ts';
import { jsonSchemaOnce } from './json-schema-once.ts';
import { registerSeedAuthMethods } from './seed-methods.ts';

export const SERVER_INFO = { name: 'sekisho', title: 'Sekisho', version: '0.1.0' } as const;

export interface ServerFactoryDeps {
  readonly config: Config;
  readonly registry: ToolRegistry;
  readonly services: ToolServices;
  /** Maps the verified token (if any) to the caller; anonymous when there is none. */
  readonly callerOf: (ctx: McpRequestContext) => Caller;
  /**
   * Names of the tools this request calls (the bearer gate reads them from the body). A tool the
   * caller's role can never use is not listed for them; when they call it anyway it is registered for
   * this one request so they get a clear tool error instead of the SDK's "tool not found".
   */
  readonly calledTools?: (ctx: McpRequestContext) => readonly string[];
  /** Extra surface for test profiles (the conformance fixture); absent in the default profile. */
  readonly extend?: FactoryExtension;
}

/**
 * A test-profile add-on: extra server options (capabilities merged over the defaults, the
 * multi-round-trip `requestState` hook) and the registrations made on every per-request instance.
 */
export interface FactoryExtension {
  readonly options?: Pick<ServerOptions, 'capabilities' | 'requestState'>;
  register(server: McpServer, ctx: McpRequestContext): void;
}

export function createServerFactory(deps: ServerFactoryDeps): McpServerFactory {
  const { config, registry, services } = deps;
  return (ctx) => {
    const caller = deps.callerOf(ctx);
    const extra = deps.extend?.options;
    const server = new McpServer(SERVER_INFO, {
      ...extra,
      capabilities: { tools: {}, ...extra?.capabilities },
      instructions: INSTRUCTIONS,
      // tools/list depends on who is asking: never cacheable across authorization contexts.
      cacheHints: { 'tools/list': { ttlMs: 0, cacheScope: 'private' } },
    });
    const visible = registry.visibleTo(caller);
    for (const tool of visible) registerTool(server, tool, caller, config, services);
    if (caller.kind !== 'anonymous') {
      for (const name of new Set(deps.calledTools?.(ctx))) {
        const hidden = registry.get(name);
        if (hidden && !visible.includes(hidden)) registerTool(server, hidden, caller, config, services);
      }
    }
    if (config.demo) registerSeedAuthMethods(server, services);
    deps.extend?.register(server, ctx);
    return server;
  };
}

const INSTRUCTIONS =
  'Sekisho is an OAuth-protected MCP server. Public tools work anonymously when the operator allows it; the others say they need sign-in, and calling one makes your client start OAuth. Once signed in you see the tools your account may use.';

function registerTool(
  server: McpServer,
  tool: AnyTool,
  caller: Caller,
  config: Config,
  services: ToolServices,
) {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: describeFor(tool, caller),
      inputSchema: jsonSchemaOnce(tool.input), // JSON Schema computed once, not per request
      annotations: tool.annotations,
    },
    async (args: unknown) => {
      const decision = decideAccess(accessForCall(tool, args), caller);
      if (decision.kind === 'forbidden') return toolError(decision.reason);
      if (decision.kind !== 'ok') {
        // The HTTP gate answers 401/403 before this point; reaching here means it was bypassed.
        return toolError(`This call needs the scopes: ${decision.scopes.join(' ')}`);
      }
      return tool.run(args, { caller, config, services });
    },
  );
}
