/**
 * 2025-era sessions (2025-03-26 / 06-18 / 11-25) on the SDK's own sessionful transport
 * (`WebStandardStreamableHTTPServerTransport`), one transport and one server per session:
 *
 *  - `initialize` opens a session: a 256-bit random `Mcp-Session-Id`, a server with the caller's
 *    tools (server-factory.ts `createSessionServer`), a bounded event store for resumption;
 *  - every later request must name it (no header → 400, unknown or not the caller's → 404) and is
 *    handed to that session's transport, which serves POST (responses, server-to-client requests
 *    and notifications on the POST's SSE stream), GET (the standalone SSE stream; `Last-Event-ID`
 *    resumes), and DELETE (ends it);
 *  - the bearer gate has already run: the session id only selects state, the token authorizes.
 *
 * What the SDK transport does not know is added here: the owner check, the caps and idle expiry
 * (session-table.ts), ending sessions whose grant or account went away, and keeping the session's
 * tool set in step with the caller's current rights.
 */
import { randomBytes } from 'node:crypto';
import {
  type AuthInfo,
  type McpHandlerRequestOptions,
  type McpRequestContext,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Caller } from '../../access/policy.ts';
import type { McpSessionSettings } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import { createSessionServer, type ServerFactoryDeps, type SessionServer } from '../server-factory.ts';
import { type BoundedEventStore, createMemoryEventStore } from './event-store.ts';
import { isOwner, ownerOf, type SessionOwner } from './owner.ts';
import { createSessionTable, type EndReason, type TableEntry } from './session-table.ts';

export interface LegacySessionsDeps {
  readonly factory: ServerFactoryDeps;
  readonly settings: McpSessionSettings;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  readonly onerror: (error: Error) => void;
  /** The caller as they are now (role re-read), undefined when their grant or account is gone. */
  readonly recheck?: (caller: Caller) => Promise<Caller | undefined>;
  readonly now?: () => number;
}

export interface LiveSession extends TableEntry {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: SessionServer;
  readonly events: BoundedEventStore;
  /** The caller of the latest request (what the tool set was last synced to). */
  caller: Caller;
  /** SSE responses of this session still open (a session with an open stream is not idle). */
  openStreams: number;
}

export interface LegacySessions {
  fetch(request: Request, options?: McpHandlerRequestOptions): Promise<Response>;
  /** Ends the sessions whose owner matches (grant revoked, account removed). */
  endWhere(matches: (owner: SessionOwner) => boolean, reason: EndReason): Promise<number>;
  /**
   * A user changed (role, profile): each of their sessions re-reads them and brings its tool set up to
   * date — the SDK then sends `notifications/tools/list_changed` on the session's GET stream if what
   * they may see changed. A session whose grant or account is gone ends.
   */
  userChanged(userId: string): Promise<void>;
  /** A live session by id (diagnostics and tests; requests go through `fetch`). */
  get(id: string): LiveSession | undefined;
  readonly size: number;
  close(): Promise<void>;
}

/** 32 random bytes, base64url: unguessable, and within the visible-ASCII range the spec requires. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function createLegacySessions(deps: LegacySessionsDeps): LegacySessions {
  const { settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const table = createSessionTable<LiveSession>(settings, {
    now,
    onEnd: (entry, reason) => logger.debug({ reason, kind: entry.owner.kind }, 'mcp session ended'),
  });
  // A session with an open stream is in use even when no request arrives (it is listening).
  const keepOpenAlive = setInterval(() => {
    for (const entry of table.entries()) if (entry.openStreams > 0) entry.lastUsed = now();
  }, 15_000);
  keepOpenAlive.unref();

  const callerOf = (authInfo: AuthInfo | undefined, request: Request) =>
    deps.factory.callerOf({ era: 'legacy', authInfo, requestInfo: request });

  async function open(request: Request, options: McpHandlerRequestOptions): Promise<Response> {
    const ctx: McpRequestContext = { era: 'legacy', authInfo: options.authInfo, requestInfo: request };
    const caller = deps.factory.callerOf(ctx);
    const owner = ownerOf(caller);
    if (!(await table.makeRoom(owner))) {
      return jsonError(503, -32000, 'Too many open sessions on this server; try again later.', {
        'retry-after': '30',
      });
    }
    const events = createMemoryEventStore({ events: settings.events, bytes: settings.eventBytes });
    const server = createSessionServer(deps.factory, ctx);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: newSessionId,
      eventStore: events,
      maxRequestBodySize: deps.maxBodyBytes,
      onsessioninitialized: (id) => {
        table.add({
          id,
          owner,
          transport,
          server,
          events,
          caller,
          openStreams: 0,
          lastUsed: now(),
          close: async () => {
            await transport.close();
            await server.server.close();
          },
        });
      },
      // DELETE: the transport closes itself right after this.
      onsessionclosed: (id) => table.end(id, 'deleted'),
    });
    transport.onerror = deps.onerror;
    await server.server.connect(transport);
    const response = await transport.handleRequest(request, options);
    const entry = transport.sessionId === undefined ? undefined : table.get(transport.sessionId);
    if (!entry) {
      // The initialize was refused (malformed, batched): nothing to keep.
      await server.server.close();
      return response;
    }
    return tracked(response, entry, request.signal);
  }

  /**
   * Counts an SSE response as an open stream until it ends, and ends it as soon as the client goes:
   * the Node adapter notices a closed connection only at its next write (a keep-alive, 15 s later),
   * and until the transport's stream is cancelled a resumption of it is refused as a conflict.
   */
  function tracked(response: Response, entry: LiveSession, signal: AbortSignal): Response {
    if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      return response;
    }
    entry.openStreams++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      entry.openStreams--;
      entry.lastUsed = now();
    };
    const reader = response.body.getReader();
    signal.addEventListener(
      'abort',
      () => {
        finish();
        void reader.cancel().catch(() => {});
      },
      { once: true },
    );
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { value, done: ended } = await reader.read();
          if (ended) {
            finish();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  }

  return {
    async fetch(request, options = {}) {
      if (request.method === 'POST' && opensSession(options.parsedBody)) return open(request, options);
      const id = request.headers.get('mcp-session-id');
      if (id === null || id === '') {
        return jsonError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      }
      const caller = callerOf(options.authInfo, request);
      const entry = table.get(id);
      // Another principal's session is answered exactly like one that does not exist.
      if (!entry || !isOwner(entry.owner, caller)) return jsonError(404, -32001, 'Session not found');
      table.touch(entry);
      entry.caller = caller;
      entry.server.syncTools(
        caller,
        deps.factory.calledTools?.({ era: 'legacy', authInfo: options.authInfo }) ?? [],
      );
      return tracked(await entry.transport.handleRequest(request, options), entry, request.signal);
    },
    endWhere: (matches, reason) => table.endWhere(matches, reason),
    async userChanged(userId) {
      const theirs = [...table.entries()].filter(
        (e) => e.owner.kind === 'user' && e.owner.subject === userId,
      );
      await Promise.all(
        theirs.map(async (entry) => {
          const now = await (deps.recheck ?? (async (c: Caller) => c))(entry.caller);
          if (now === undefined) return table.end(entry.id, 'revoked');
          entry.caller = now;
          entry.server.syncTools(now);
        }),
      );
    },
    get: (id) => table.get(id),
    get size() {
      return table.size;
    },
    async close() {
      clearInterval(keepOpenAlive);
      await table.close();
    },
  };
}

/** An `initialize` request (alone, or inside a batch the transport will refuse with a clear 400). */
function opensSession(body: unknown): boolean {
  const isInit = (m: unknown) =>
    typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize';
  return Array.isArray(body) ? body.some(isInit) : isInit(body);
}

/** The SDK transport's own error shape (JSON-RPC error, id null), for the answers given before it. */
function jsonError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { jsonrpc: '2.0', error: { code, message }, id: null },
    { status, headers: { 'content-type': 'application/json', ...headers } },
  );
}
