/**
 * `defineTool` is the one place a tool states everything about itself: name, words, input schema,
 * who may use it, and what it does. The registry and the MCP server factory read these declarations;
 * nothing else hard-codes a tool's requirements.
 */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { type Access, type Caller, combineAccess } from '../access/policy.ts';
import type { Config } from '../config/config.ts';
import type { ToolInteraction, ToolServices } from './services.ts';

export interface ToolContext {
  readonly caller: Caller;
  readonly config: Config;
  readonly services: ToolServices;
  /** Asking the person at the client, when it can be asked (elicitation). */
  readonly interaction: ToolInteraction;
}

export interface ToolDefinition<Input extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly input: Input;
  readonly annotations?: ToolAnnotations;
  /** Who may see and call the tool. */
  readonly access: Access;
  /**
   * A stricter requirement for particular arguments (e.g. protected_data's `admin` category).
   * Checked before the handler runs, with the same challenge rules as `access`.
   */
  readonly accessFor?: (args: z.infer<Input>) => Access | undefined;
  /** Only registered when the server runs in demo mode. */
  readonly demoOnly?: boolean;
  readonly run: (args: z.infer<Input>, ctx: ToolContext) => CallToolResult | Promise<CallToolResult>;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of tools, each typed by its own schema
export type AnyTool = ToolDefinition<any>;

/** Identity function that keeps the input type flowing from `input` into `run` and `accessFor`. */
export function defineTool<Input extends z.ZodObject>(
  definition: ToolDefinition<Input>,
): ToolDefinition<Input> {
  return definition;
}

/**
 * What one call needs: the tool's `access`, tightened by `accessFor` for these arguments. `args` must
 * already satisfy the tool's input schema (the HTTP gate parses them first; the SDK validates them
 * before the handler runs).
 */
export function accessForCall(tool: AnyTool, args: unknown): Access {
  return combineAccess(tool.access, tool.accessFor?.(args));
}

/**
 * The description a caller sees in tools/list. An anonymous caller is shown every tool (so a client
 * can offer it, and calling it answers 401, which starts OAuth); a tool that needs an account says
 * so, in the words of its own Access declaration.
 */
export function describeFor(tool: AnyTool, caller: Caller): string {
  if (caller.kind !== 'anonymous' || tool.access.kind === 'public') return tool.description;
  const who = tool.access.role === 'admin' ? 'as an administrator' : '';
  return `${tool.description} [Sign in ${who ? `${who} ` : ''}to use this tool: calling it starts OAuth sign-in (scopes: ${tool.access.scopes.join(' ')}).]`;
}

/** A text result, with the same data as structured content when given. */
export function textResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  return structured === undefined
    ? { content: [{ type: 'text', text }] }
    : { content: [{ type: 'text', text }], structuredContent: structured };
}

/** A tool-level error the model can read (isError), as opposed to a protocol error. */
export function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
