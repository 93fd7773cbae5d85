/**
 * How the copies of one session on several instances (a shared directory) act as one session: where
 * each message between the client and the session's server goes.
 *
 *  - Answers to server requests: a request the server sends the client (elicitation, sampling, roots)
 *    gets the id `<instance>:<n>`, so the client's answer — a POST that may land anywhere — names the
 *    instance waiting for it. A POST's answers are split into ours (ids turned back into the server's
 *    numbers) and other instances' (routed to them over the directory; a POST of nothing else is
 *    answered 202 as the spec says).
 *  - Standalone-stream messages (no related request: `tools/list_changed`, …) are written once, by the
 *    session's writer: the holder of its GET stream, else one instance the directory elects. Every other
 *    copy routes them there, so each is stored once and reaches the open stream wherever it is.
 *
 * Making a copy on an instance that never saw the session's `initialize` is rebuild.ts's.
 */
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type TransportSendOptions,
  type WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Logger } from '../../observability/logger.ts';
import type { SessionDirectory } from './directory.ts';
import type { SessionOwner } from './owner.ts';

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

/**
 * Every copy of a session reacts to the same change (a role change reaches all instances), and each
 * sends its `list_changed` to the writer: the writer keeps one per kind within this window.
 */
const LIST_CHANGED_WINDOW_MS = 1_500;

/** What this file needs of a session's copy on this instance. */
export interface SharedCopy {
  readonly id: string;
  readonly owner: SessionOwner;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  /** Of its open SSE responses, GET streams (while any is open, this instance is the session's writer). */
  getStreams: number;
  /** The transport's own send (set by `attach`), and when each list_changed kind was last written. */
  readonly outbound: Outbound | undefined;
  readonly lastListChanged: Map<string, number>;
}

export interface CrossInstance<C extends SharedCopy> {
  /** Wraps a new copy's outbound messages: routed request ids, standalone messages to the writer. */
  attach(copy: C): void;
  /** Whether a POST carries nothing but answers for other instances (no copy is needed here). */
  onlyAnswersForOthers(body: unknown): boolean;
  /**
   * Routes a POST's answers to the instances that sent the requests; resolves with the rest, this
   * instance's to handle (undefined: nothing is left).
   */
  routeAnswers(sessionId: string, body: unknown): Promise<unknown>;
  /** A GET stream opened / ended on this copy: this instance holds the writer role while one is open. */
  streamOpened(copy: C): void;
  streamEnded(copy: C): void;
  /** A copy with an open stream is in use: its record and its hold on the writer role are renewed. */
  stillOpen(copy: C): void;
  /** The copy ended: a hold on the writer role goes with it. */
  ended(copy: C): void;
}

/** The cross-instance side of this instance's copies; `copyOf` finds a copy held here. */
export function createCrossInstance<C extends SharedCopy>(deps: {
  readonly directory: SessionDirectory;
  readonly instanceId: string;
  readonly copyOf: (id: string) => C | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}): CrossInstance<C> {
  const { directory, instanceId, logger, now } = deps;
  const warn = (what: string) => (err: unknown) => logger.warn({ err }, what);

  directory.onRouted((routed) => {
    const copy = deps.copyOf(routed.sessionId);
    if (!copy) return void logger.debug({ kind: routed.kind }, 'routed message for a session not held here');
    if (routed.kind === 'notify') return void writeStandalone(copy, routed.message);
    const answer = localAnswer(routed.message);
    if (answer) copy.transport.onmessage?.(answer);
    else logger.debug('routed answer without a routed id dropped');
  });

  /** The writer's path: one `list_changed` per kind per window, then stored and sent by the SDK. */
  async function writeStandalone(copy: C, message: JSONRPCMessage): Promise<void> {
    const method = (message as { method?: unknown }).method;
    if (typeof method === 'string' && method.endsWith('/list_changed')) {
      const last = copy.lastListChanged.get(method);
      if (last !== undefined && now() - last < LIST_CHANGED_WINDOW_MS) return;
      copy.lastListChanged.set(method, now());
    }
    await copy.outbound?.direct(message).catch(warn('session stream message not sent'));
  }

  /** A standalone-stream message of a copy: written here if this instance is the writer, else routed. */
  const standaloneOf = (copy: C) => async (message: JSONRPCMessage) => {
    const writer = await directory.writerOf(copy.id).catch(() => instanceId);
    if (writer === undefined || writer === instanceId) return writeStandalone(copy, message);
    await directory
      .route(writer, { kind: 'notify', sessionId: copy.id, message })
      .catch(warn('session stream message not routed'));
  };

  return {
    attach(copy) {
      (copy as { outbound: Outbound }).outbound = wrapOutbound(
        copy.transport,
        instanceId,
        standaloneOf(copy),
      );
    },
    onlyAnswersForOthers: (body) => splitInbound(body, instanceId).local === undefined,
    async routeAnswers(sessionId, body) {
      const split = splitInbound(body, instanceId);
      for (const { instanceId: to, message } of split.foreign) {
        logger.info({ to }, 'answer to a server request routed to the instance that sent it');
        await directory
          .route(to, { kind: 'response', sessionId, message })
          .catch((err: unknown) => logger.debug({ err }, 'answer not routed (dropped)'));
      }
      return split.local;
    },
    streamOpened(copy) {
      copy.getStreams++;
      void directory.holdStream(copy.id).catch(() => {});
    },
    streamEnded(copy) {
      if (--copy.getStreams === 0) void directory.releaseStream(copy.id).catch(() => {});
    },
    stillOpen(copy) {
      void directory.touch(copy.id, copy.owner).catch(() => {});
      if (copy.getStreams > 0) void directory.holdStream(copy.id).catch(() => {});
    },
    ended(copy) {
      if (copy.getStreams > 0) void directory.releaseStream(copy.id).catch(() => {});
    },
  };
}
