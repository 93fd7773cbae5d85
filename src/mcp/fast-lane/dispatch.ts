/**
 * Answers a classified fast-lane request for an authorized caller, or returns `undefined` to hand
 * it to the SDK. tools/call runs the tool the way the per-request McpServer would (server-factory.ts):
 * arguments parsed by the tool's zod schema, access judged by the same `decideAccess`, a thrown error
 * becoming an `isError` result. Only the plain success path is taken here — an unknown or hidden tool,
 * invalid arguments, or an access decision other than `ok` all go to the SDK, which words those
 * answers. No server, transport or other per-principal object exists on this path at all.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import { type Caller, decideAccess } from '../../access/policy.ts';
import type { Config } from '../../config/config.ts';
import { accessForCall } from '../../tools/define-tool.ts';
import type { ToolRegistry } from '../../tools/registry.ts';
import type { ToolInteraction, ToolServices } from '../../tools/services.ts';
import type { FastRequest } from './classify.ts';
import { modernTail, type Reply, reply, stampedModernJson } from './encode.ts';
import type { ToolsListCache } from './tools-list-cache.ts';

export interface DispatchDeps {
  readonly config: Config;
  readonly registry: ToolRegistry;
  readonly services: ToolServices;
  readonly serverInfo: Readonly<Record<string, unknown>>;
  /** Absent when tools/list must always go through the SDK (e.g. a test profile adds tools). */
  readonly toolsList?: ToolsListCache;
}

export interface DispatchInput {
  readonly request: FastRequest;
  readonly caller: Caller;
  readonly authInfo: AuthInfo | undefined;
  /** For a tools/list cache miss, which is answered through the SDK. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

const tails = new WeakMap<object, string>();
function tailFor(serverInfo: Readonly<Record<string, unknown>>): string {
  let tail = tails.get(serverInfo);
  if (tail === undefined) {
    tail = modernTail(serverInfo);
    tails.set(serverInfo, tail);
  }
  return tail;
}

/**
 * The lane answers in one go and cannot ask anyone: a tool that wants to ask sends the call to the
 * full pipeline, which can (tools ask before they act, so nothing has happened yet).
 */
class AskElsewhere extends Error {}
const ASK_ELSEWHERE: ToolInteraction = {
  confirm: async () => {
    throw new AskElsewhere('this call asks the user: served by the full pipeline');
  },
};

export async function dispatch(deps: DispatchDeps, input: DispatchInput): Promise<Reply | undefined> {
  const { request, caller } = input;
  const visible = deps.registry.visibleTo(caller);
  if (request.method === 'tools/list') {
    const result = await deps.toolsList?.get(
      request,
      visible,
      caller.kind === 'anonymous',
      input.headers,
      input.body,
      input.authInfo,
    );
    return result === undefined ? undefined : reply(request, result);
  }

  const tool = deps.registry.get(request.tool ?? '');
  if (!tool || !visible.includes(tool)) return undefined;
  const parsed = tool.input.safeParse(request.args ?? {});
  if (!parsed.success) return undefined;
  if (decideAccess(accessForCall(tool, parsed.data), caller).kind !== 'ok') return undefined;

  let result: Record<string, unknown>;
  try {
    result = {
      ...(await tool.run(parsed.data, {
        caller,
        config: deps.config,
        services: deps.services,
        interaction: ASK_ELSEWHERE,
      })),
    };
  } catch (error) {
    if (error instanceof AskElsewhere) return undefined; // before the tool acted: the SDK path asks
    // McpServer's tools/call handler: a thrown error is a tool error the model can read.
    result = {
      content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }],
      isError: true,
    };
  }
  if (result.content === undefined) result.content = [];
  const json =
    request.era === 'modern'
      ? stampedModernJson(result, tailFor(deps.serverInfo), deps.serverInfo)
      : JSON.stringify(result);
  return reply(request, json);
}
