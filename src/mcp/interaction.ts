/**
 * `ToolInteraction` (tools/services.ts) on the MCP wire, one way per era:
 *
 *  - 2025 era, in a session whose client declared `elicitation`: `elicitation/create` sent on the
 *    call's own SSE stream (the SDK's `ctx.mcpReq.elicitInput` with the call as related request); the
 *    client's answer comes back as a POST in the same session (on any instance) and resolves it.
 *  - 2026-07-28, client declared `elicitation` in its envelope: the multi-round-trip pattern — the
 *    first call is answered `input_required` with the question, the client retries the same call with
 *    `inputResponses`, and the retry reads the answer (the SDK's `inputRequired` / `inputResponse`).
 *  - anything else (no capability, stateless 2025-era serving, the fast lane): `unsupported`.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ElicitRequestFormParams,
  type InputRequests,
  inputRequired,
  inputResponse,
  type McpServer,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ConfirmQuestion, ToolInteraction } from '../tools/services.ts';

/** Thrown by a 2026-07-28 `confirm` with no answer yet: the call is answered with these input requests. */
export class InputNeeded extends Error {
  override readonly name = 'InputNeeded';
  readonly inputRequests: InputRequests;
  constructor(inputRequests: InputRequests) {
    super('input required');
    this.inputRequests = inputRequests;
  }
}

/** The `input_required` result for a call that threw `InputNeeded`. */
export function inputRequiredResult(needed: InputNeeded) {
  return inputRequired({ inputRequests: needed.inputRequests });
}

function form(question: ConfirmQuestion): ElicitRequestFormParams {
  return {
    mode: 'form',
    message: question.message,
    requestedSchema: {
      type: 'object',
      properties: { confirm: { type: 'boolean', title: question.label, default: false } },
      required: ['confirm'],
    },
  };
}

function verdict(action: unknown, content: unknown): 'confirmed' | 'declined' {
  const yes = (content as { confirm?: unknown } | undefined)?.confirm === true;
  return action === 'accept' && yes ? 'confirmed' : 'declined';
}

export function interactionFor(
  server: McpServer,
  ctx: ServerContext,
  era: 'legacy' | 'modern',
): ToolInteraction {
  return {
    async confirm(question) {
      if (era === 'legacy') {
        if (!server.server.getClientCapabilities()?.elicitation) return 'unsupported';
        // On the call's own stream (the spec's SHOULD), not the GET stream: the client may not have
        // opened that one yet, and across instances it may be held elsewhere.
        const answer = await ctx.mcpReq.elicitInput(form(question), { relatedRequestId: ctx.mcpReq.id });
        return verdict(answer.action, answer.content);
      }
      const answer = inputResponse(ctx.mcpReq.inputResponses, question.key);
      if (answer.kind === 'elicit') return verdict(answer.action, answer.content);
      const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
      const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as { elicitation?: unknown } | undefined;
      if (!capabilities?.elicitation) return 'unsupported';
      throw new InputNeeded({ [question.key]: inputRequired.elicit(form(question)) });
    },
  };
}
