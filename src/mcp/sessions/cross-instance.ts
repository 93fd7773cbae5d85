/**
 * What a session's local copy needs when other instances hold copies too (a shared directory):
 *
 *  - `rebuild`: a copy made on an instance that never saw the session's `initialize` replays it (and
 *    `notifications/initialized`) into a fresh SDK transport and server, with the session's own id,
 *    so the SDK's `_initialized`, negotiated version and client capabilities are exactly as on the
 *    instance that opened it. Nothing of the replay reaches the client or the event store.
 *  - `outbound`: a wrapper around the transport's `send`. A request the server sends the client
 *    (elicitation, sampling, roots) gets the id `<instance>:<n>`, so the client's answer — a POST that
 *    may land anywhere — names the instance waiting for it. A standalone-stream message (no related
 *    request: `tools/list_changed`, …) goes to the session's writer (the GET stream's holder, else one
 *    elected instance), so it is stored once and reaches the open stream wherever it is.
 *  - `inbound`: splits a POST's answers into ours (ids turned back into the server's numbers) and
 *    other instances' (routed to them over Redis; the POST is answered 202 as the spec says).
 */
import {
  type AuthInfo,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type TransportSendOptions,
  type WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';

/** `<instance id>:<the server's own request id>` — instance ids are 16 hex digits. */
const ROUTED_ID = /^([0-9a-f]{16}):(\d{1,15})$/;

export function routedIdOf(instanceId: string, id: string | number): string {
  return `${instanceId}:${id}`;
}

export function parseRoutedId(id: unknown): { instanceId: string; id: number } | undefined {
  if (typeof id !== 'string') return undefined;
  const match = ROUTED_ID.exec(id);
  return match ? { instanceId: match[1]!, id: Number(match[2]) } : undefined;
}

const isResponse = (m: JSONRPCMessage) => isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m);

/** The id turned back into the number the SDK's server is waiting on. */
export function localAnswer(message: JSONRPCMessage): JSONRPCMessage | undefined {
  const routed = parseRoutedId((message as { id?: unknown }).id);
  return routed && isResponse(message) ? ({ ...message, id: routed.id } as JSONRPCMessage) : undefined;
}

export interface InboundSplit {
  /** What this instance's transport handles (undefined: nothing left, answer 202). */
  readonly local: unknown;
  /** Answers for requests other instances sent. */
  readonly foreign: readonly { readonly instanceId: string; readonly message: JSONRPCMessage }[];
}

export function splitInbound(body: unknown, instanceId: string): InboundSplit {
  const messages = Array.isArray(body) ? body : [body];
  const local: unknown[] = [];
  const foreign: { instanceId: string; message: JSONRPCMessage }[] = [];
  for (const message of messages) {
    const routed =
      typeof message === 'object' && message !== null && isResponse(message as JSONRPCMessage)
        ? parseRoutedId((message as { id?: unknown }).id)
        : undefined;
    if (!routed) local.push(message);
    else if (routed.instanceId === instanceId) local.push({ ...(message as object), id: routed.id });
    else foreign.push({ instanceId: routed.instanceId, message: message as JSONRPCMessage });
  }
  if (local.length === 0) return { local: undefined, foreign };
  return { local: Array.isArray(body) ? local : local[0], foreign };
}

export interface Outbound {
  /** Sends through the transport's own `send` (the writer's path: stored and written once). */
  direct(message: JSONRPCMessage): Promise<void>;
}

/**
 * Wraps `transport.send`. `standalone` receives each standalone-stream message (it decides who writes);
 * everything else goes out as the SDK meant, requests with routed ids.
 */
export function wrapOutbound(
  transport: WebStandardStreamableHTTPServerTransport,
  instanceId: string,
  standalone: (message: JSONRPCMessage) => Promise<void>,
): Outbound {
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage, options?: TransportSendOptions) => {
    const outgoing = isJSONRPCRequest(message)
      ? ({ ...message, id: routedIdOf(instanceId, message.id) } as JSONRPCMessage)
      : message;
    if (options?.relatedRequestId === undefined && !isResponse(outgoing)) return standalone(outgoing);
    return send(outgoing, options);
  };
  return { direct: (message) => send(message) };
}

const REBUILD_ID = 'sekisho-rebuild';
const REBUILD_TIMEOUT_MS = 10_000;

/**
 * Replays the session's `initialize` and `notifications/initialized` into `transport` (connected to a
 * fresh server, its event store muted by the caller). Resolves once the server has answered; rejects
 * when it refused (a record whose params no longer initialize) or did not answer in time.
 */
export async function replayInitialize(
  transport: WebStandardStreamableHTTPServerTransport,
  url: string,
  params: Record<string, unknown>,
  authInfo: AuthInfo | undefined,
): Promise<void> {
  const post = (body: Record<string, unknown>) =>
    transport.handleRequest(
      new Request(url, {
        method: 'POST',
        headers: {
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
          // Ignored on the initialize (the transport takes its id from the generator), required after.
          'mcp-session-id': transport.sessionId ?? '',
        },
        body: JSON.stringify(body),
      }),
      { authInfo, parsedBody: body },
    );
  const init = await post({ jsonrpc: '2.0', id: REBUILD_ID, method: 'initialize', params });
  if (init.status !== 200) throw new Error(`initialize replay refused (${init.status})`);
  let timer: NodeJS.Timeout | undefined;
  const answered = await Promise.race([
    init.text(),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), REBUILD_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  if (answered === undefined || !answered.includes('"result"')) {
    throw new Error('initialize replay not answered');
  }
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  if (initialized.status !== 202) throw new Error(`initialized replay refused (${initialized.status})`);
}
