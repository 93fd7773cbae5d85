/**
 * What the MCP request asks for, as far as authorization is concerned: the `tools/call`s in the
 * JSON-RPC body (one message, or a 2025-03-26 batch array), judged against each tool's declared
 * Access. The HTTP gate runs this before the SDK sees the request, because the answer may have to be
 * an HTTP 401/403 challenge (the client starts or steps up OAuth), which a JSON-RPC result cannot be.
 *
 * The Access declarations in the registry are the only source of requirements: nothing here names a
 * tool or a scope.
 */
import { type Caller, decideAccess } from '../access/policy.ts';
import { ALL_SCOPES } from '../access/scopes.ts';
import { accessForCall } from '../tools/define-tool.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { type Challenge, insufficientScope, noCredentials } from './challenge.ts';

export interface ToolCall {
  readonly name: string;
  readonly args: unknown;
}

/** Batches larger than this are left to the SDK, which rejects them; we only need their calls. */
const MAX_BATCH = 100;

export function toolCallsIn(body: unknown): ToolCall[] {
  const messages = Array.isArray(body) ? body.slice(0, MAX_BATCH) : [body];
  const calls: ToolCall[] = [];
  for (const message of messages) {
    if (!isObject(message) || message.method !== 'tools/call' || !isObject(message.params)) continue;
    const { name, arguments: args } = message.params;
    if (typeof name === 'string') calls.push({ name, args });
  }
  return calls;
}

/**
 * The challenge this request must get, or undefined when every call may proceed. Calls the caller's
 * role can never make are let through: the server answers them with a plain tool error (no challenge
 * can help, and challenging would loop the client through OAuth forever).
 */
export function challengeForCalls(
  calls: readonly ToolCall[],
  caller: Caller,
  registry: ToolRegistry,
): Challenge | undefined {
  const signIn = new Set<string>();
  const stepUp = new Set<string>();
  const stepUpTools: string[] = [];
  for (const call of calls) {
    const tool = registry.get(call.name);
    if (!tool) continue; // unknown tool: the SDK answers "not found"
    const parsed = tool.input.safeParse(call.args ?? {});
    // Invalid arguments: judge on the tool's own access; the SDK then rejects the arguments.
    const access = parsed.success ? accessForCall(tool, parsed.data) : tool.access;
    const decision = decideAccess(access, caller);
    if (decision.kind === 'sign-in') for (const s of decision.scopes) signIn.add(s);
    if (decision.kind === 'step-up') {
      for (const s of decision.scopes) stepUp.add(s);
      stepUpTools.push(call.name);
    }
  }
  if (signIn.size > 0) {
    // Sign-in: ask for the basic set plus what this operation needs, so one consent covers both.
    return noCredentials(
      ordered([...registry.basicScopes, ...signIn]),
      'Sign in with OAuth to use this tool.',
    );
  }
  if (stepUp.size > 0) {
    return insufficientScope(
      ordered(stepUp),
      `${stepUpTools.join(', ')} needs more access: authorize the scopes ${ordered(stepUp).join(' ')}.`,
    );
  }
  return undefined;
}

/** Catalogue order, so challenges are stable and readable. */
export function ordered(scopes: Iterable<string>): string[] {
  const set = new Set(scopes);
  const known = ALL_SCOPES.map((s) => s.name).filter((s) => set.has(s));
  return [...known, ...[...set].filter((s) => !known.includes(s)).sort()];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
