/**
 * A copy of a session on an instance that never saw its `initialize` (a shared directory): made from
 * the session's record by replaying that `initialize` (and `notifications/initialized`) into a fresh
 * SDK transport and server, with the session's own id, so the SDK's `_initialized`, negotiated version
 * and client capabilities are exactly as on the instance that opened it. Nothing of the replay reaches
 * the client or the event store; concurrent requests of the same session wait for one rebuild.
 */
import type {
  AuthInfo,
  McpHandlerRequestOptions,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Logger } from '../../observability/logger.ts';
import type { SessionEventStore, SessionRecord } from './directory.ts';

/** The server-wide cap on copies is reached: no copy is made. */
export class SessionsFull extends Error {
  override readonly name = 'SessionsFull';
}

/** The event store as the transport sees it: while a copy replays its initialize, nothing is stored. */
export function muting(store: SessionEventStore, muted: { value: boolean }): SessionEventStore {
  return {
    storeEvent: (streamId, message) =>
      muted.value ? Promise.resolve(`0-0_${streamId}`) : store.storeEvent(streamId, message),
    getStreamIdForEventId: (eventId) => store.getStreamIdForEventId(eventId),
    replayEventsAfter: (lastEventId, send) => store.replayEventsAfter(lastEventId, send),
  };
}

interface Copy {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  close(): Promise<void>;
}

export interface RebuildDeps<C extends Copy> {
  /** Whether another copy may open (the server-wide cap). */
  hasRoom(): boolean;
  /** A fresh copy of the session for this request, its event store muted while `muted.value` is true. */
  build(
    record: SessionRecord,
    request: Request,
    options: McpHandlerRequestOptions,
    muted: { value: boolean },
  ): Promise<C>;
  /** Keeps the copy (once its initialize is replayed). */
  add(copy: C): void;
  readonly logger: Logger;
}

/**
 * Rebuilds copies, one at a time per session: rejects with `SessionsFull` at the cap, or with the
 * replay's error (the half-made copy closed).
 */
export function createRebuilder<C extends Copy>(
  deps: RebuildDeps<C>,
): (record: SessionRecord, request: Request, options: McpHandlerRequestOptions) => Promise<C> {
  const rebuilding = new Map<string, Promise<C>>();
  return (record, request, options) => {
    const pending = rebuilding.get(record.id);
    if (pending) return pending;
    const made = (async () => {
      if (!deps.hasRoom()) throw new SessionsFull();
      const muted = { value: true };
      const copy = await deps.build(record, request, options, muted);
      try {
        await replayInitialize(copy.transport, request.url, record.initialize, options.authInfo);
      } catch (error) {
        await copy.close().catch(() => {});
        throw error;
      } finally {
        muted.value = false;
      }
      deps.add(copy);
      deps.logger.debug({ kind: record.owner.kind }, 'mcp session copy rebuilt from its record');
      return copy;
    })().finally(() => rebuilding.delete(record.id));
    rebuilding.set(record.id, made);
    return made;
  };
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
