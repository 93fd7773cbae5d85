/**
 * Builds the McpServer for one request. The SDK asks for a fresh instance per HTTP request (servers
 * and transports are never shared between principals — CVE-2026-25536), so this function is on the
 * hot path: everything that can be computed once (registry, schemas) is computed by the caller.
 */
import {
  type McpRequestContext,
  McpServer,
  type McpServerFactory,
  type RegisteredTool,
  type ServerContext,
  type ServerOptions,
} from '@modelcontextprotocol/server';
import { type Caller, decideAccess } from '../access/policy.ts';
import type { Config } from '../config/config.ts';
import { type AnyTool, accessForCall, describeFor, toolError } from '../tools/define-tool.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { ToolServices } from '../tools/services.ts';
import { InputNeeded, inputRequiredResult, interactionFor } from './interaction.ts';
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
  return (ctx) => {
    const server = newServer(deps);
    syncTools(deps, server, new Map(), deps.callerOf(ctx), deps.calledTools?.(ctx) ?? [], ctx.era);
    return extendServer(deps, server, ctx);
  };
}

/**
 * A 2025-era session's server. It outlives the request that made it, and the rights of the caller
 * behind it can change while it lives (role changed, scopes widened by step-up): `syncTools` brings
 * its tool set up to date with the caller of the current request, and the SDK then tells the client
 * with one `notifications/tools/list_changed`. Tool handlers always judge the caller of the request
 * that runs them, never the one that opened the session.
 */
export interface SessionServer {
  readonly server: McpServer;
  /** Registers what `caller` may now see (and the hidden tools they call), removes the rest. */
  syncTools(caller: Caller, calledTools?: readonly string[]): void;
}

export function createSessionServer(deps: ServerFactoryDeps, ctx: McpRequestContext): SessionServer {
  const server = newServer(deps, {
    // A change of rights removes and adds several tools at once: one notification, not one each.
    debouncedNotificationMethods: ['notifications/tools/list_changed'],
  });
  const tools = new Map<string, Registration>();
  syncTools(deps, server, tools, deps.callerOf(ctx), deps.calledTools?.(ctx) ?? [], 'legacy');
  extendServer(deps, server, ctx);
  return {
    server,
    syncTools: (current, called = []) => syncTools(deps, server, tools, current, called, 'legacy'),
  };
}

/** What is registered for one tool, and the description it was registered with (it names the caller's state). */
interface Registration {
  readonly handle: RegisteredTool;
  readonly description: string;
}

function newServer(
  deps: ServerFactoryDeps,
  more: Pick<ServerOptions, 'debouncedNotificationMethods'> = {},
): McpServer {
  const extra = deps.extend?.options;
  const server = new McpServer(SERVER_INFO, {
    ...extra,
    ...more,
    capabilities: { tools: { listChanged: true }, ...extra?.capabilities },
    instructions: INSTRUCTIONS,
    // tools/list depends on who is asking: never cacheable across authorization contexts.
    cacheHints: { 'tools/list': { ttlMs: 0, cacheScope: 'private' } },
  });
  return server;
}

/** What every server gets after its tools: the demo's auth methods and the test profile's surface. */
function extendServer(deps: ServerFactoryDeps, server: McpServer, ctx: McpRequestContext): McpServer {
  if (deps.config.demo) registerSeedAuthMethods(server, deps.services);
  deps.extend?.register(server, ctx);
  return server;
}

/**
 * Makes `tools` exactly the tools `caller` may see, plus (for a signed-in caller) the hidden tools
 * they call: a tool their role can never use is not listed, but calling it anyway gets a clear tool
 * error instead of the SDK's "tool not found".
 */
function syncTools(
  deps: ServerFactoryDeps,
  server: McpServer,
  tools: Map<string, Registration>,
  caller: Caller,
  calledTools: readonly string[],
  era: McpRequestContext['era'],
): void {
  const wanted = new Map(deps.registry.visibleTo(caller).map((t) => [t.name, t]));
  if (caller.kind !== 'anonymous') {
    for (const name of calledTools) {
      const hidden = deps.registry.get(name);
      if (hidden) wanted.set(name, hidden);
    }
  }
  for (const [name, registration] of tools) {
    const tool = wanted.get(name);
    if (tool && describeFor(tool, caller) === registration.description) continue;
    registration.handle.remove();
    tools.delete(name);
  }
  for (const tool of wanted.values()) {
    if (tools.has(tool.name)) continue;
    const description = describeFor(tool, caller);
    tools.set(tool.name, { handle: registerTool(server, tool, description, deps, era), description });
  }
}

const INSTRUCTIONS =
  'Sekisho is an OAuth-protected MCP server. Public tools work anonymously when the operator allows it; the others say they need sign-in, and calling one makes your client start OAuth. Once signed in you see the tools your account may use.';

function registerTool(
  server: McpServer,
  tool: AnyTool,
  description: string,
  deps: ServerFactoryDeps,
  era: McpRequestContext['era'],
): RegisteredTool {
  const { config, services } = deps;
  return server.registerTool(
    tool.name,
    {
      title: tool.title,
      description,
      inputSchema: jsonSchemaOnce(tool.input), // JSON Schema computed once, not per request
      annotations: tool.annotations,
    },
    async (args: unknown, ctx: ServerContext) => {
      // The caller of the request running this call (a session's server serves many requests).
      const caller = deps.callerOf({ era: 'legacy', authInfo: ctx.http?.authInfo } as McpRequestContext);
      const decision = decideAccess(accessForCall(tool, args), caller);
      if (decision.kind === 'forbidden') return toolError(decision.reason);
      if (decision.kind !== 'ok') {
        // The HTTP gate answers 401/403 before this point; reaching here means it was bypassed.
        return toolError(`This call needs the scopes: ${decision.scopes.join(' ')}`);
      }
      const interaction = interactionFor(server, ctx, era);
      try {
        return await tool.run(args, { caller, config, services, interaction });
      } catch (error) {
        // 2026-07-28: the tool asked a question; the client answers by retrying the call.
        if (error instanceof InputNeeded) return inputRequiredResult(error);
        throw error;
      }
    },
  );
}
