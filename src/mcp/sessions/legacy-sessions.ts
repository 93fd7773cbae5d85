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
 * (session-table.ts for this process's copies, directory.ts for the per-user pools), ending sessions
 * whose grant or account went away, and keeping the session's tool set in step with the caller's
 * current rights.
 *
 * Across instances (a Redis directory): the record says who owns a session and how it was opened, so
 * a request of a session this instance holds no copy of loads the record, checks the owner (404 as for
 * an unknown id) and rebuilds a copy (rebuild.ts); events go to the shared store, a client's answer to
 * a server request reaches the instance waiting for it, and standalone-stream messages are written
 * once, by the session's writer (cross-instance.ts). SSE responses are watched until they end
 * (open-streams.ts).
 *
 * This file is the story of a session — create, find, serve POST/GET/DELETE, end — and reads top-down.
 */
import { randomBytes } from 'node:crypto';
import {
  type McpHandlerRequestOptions,
  type McpRequestContext,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Caller } from '../../access/policy.ts';
import type { McpSessionSettings } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import { createSessionServer, type ServerFactoryDeps, type SessionServer } from '../server-factory.ts';
import { createCrossInstance, type SharedCopy } from './cross-instance.ts';
import {
  createLocalDirectory,
  isSessionId,
  poolCapOf,
  type SessionDirectory,
  type SessionEventStore,
  type SessionRecord,
} from './directory.ts';
import { isEventStream, untilEnded } from './open-streams.ts';
import { isOwner, ownerOf, type SessionOwner } from './owner.ts';
import { createRebuilder, muting, SessionsFull } from './rebuild.ts';
import { createSessionTable, type EndReason, type TableEntry } from './session-table.ts';

export interface LegacySessionsDeps {
  readonly factory: ServerFactoryDeps;
  readonly settings: McpSessionSettings;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  readonly onerror: (error: Error) => void;
  /** The caller as they are now (role re-read), undefined when their grant or account is gone. */
  readonly recheck?: (caller: Caller) => Promise<Caller | undefined>;
  /** Where sessions are known beyond this process (Redis); in process when absent. */
  readonly directory?: SessionDirectory;
  readonly now?: () => number;
}

/** This process's copy of a session; what it needs across instances (`getStreams`, …) is `SharedCopy`. */
export interface LiveSession extends TableEntry, SharedCopy {
  readonly server: SessionServer;
  readonly events: SessionEventStore;
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
  /** The session was ended on another instance: this instance's copy (if any) ends too. */
  endedElsewhere(id: string): Promise<void>;
  /** A live session by id (diagnostics and tests; requests go through `fetch`). */
  get(id: string): LiveSession | undefined;
  readonly size: number;
  close(): Promise<void>;
}

/** 32 random bytes, base64url: unguessable, and within the visible-ASCII range the spec requires. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** Reasons that end the session itself, not only this instance's copy of it. */
const ENDS_SESSION: ReadonlySet<EndReason> = new Set(['evicted', 'revoked']);

export function createLegacySessions(deps: LegacySessionsDeps): LegacySessions {
  const { settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const directory =
    deps.directory ?? createLocalDirectory({ events: settings.events, bytes: settings.eventBytes });
  /** This instance's id when the directory is shared; undefined on one box. */
  const instanceId = directory.instanceId;
  const warn = (what: string) => (err: unknown) => logger.warn({ err }, what);
  /** Where other instances come in (a shared directory); undefined on one box. */
  const shared =
    instanceId === undefined
      ? undefined
      : createCrossInstance<LiveSession>({
          directory,
          instanceId,
          copyOf: (id) => table.get(id),
          logger,
          now,
        });
  const table = createSessionTable<LiveSession>(settings, {
    now,
    onEnd: (entry, reason) => {
      logger.debug({ reason, kind: entry.owner.kind }, 'mcp session ended');
      shared?.ended(entry);
      if (instanceId === undefined || ENDS_SESSION.has(reason)) {
        void directory.end(entry.id, entry.owner).catch(warn('mcp session not ended everywhere'));
      }
    },
  });
  const rebuild = createRebuilder<LiveSession>({
    hasRoom: () => table.hasRoom(),
    build: (record, request, options, muted) =>
      build(record.id, record.owner, contextOf(request, options), { muted }),
    add: (entry) => table.add(entry),
    logger,
  });
  // A session with an open stream is in use even when no request arrives (it is listening).
  const keepOpenAlive = setInterval(() => {
    for (const entry of table.entries()) {
      if (entry.openStreams === 0) continue;
      entry.lastUsed = now();
      shared?.stillOpen(entry);
    }
  }, 15_000);
  keepOpenAlive.unref();

  /** A copy of session `id`: transport, server, event store; added to the table by the caller. */
  async function build(
    id: string,
    owner: SessionOwner,
    ctx: McpRequestContext,
    opts: { muted: { value: boolean }; onInitialized?: () => void },
  ): Promise<LiveSession> {
    const events = directory.eventStore(id);
    const server = createSessionServer(deps.factory, ctx);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: muting(events, opts.muted),
      maxRequestBodySize: deps.maxBodyBytes,
      ...(opts.onInitialized && { onsessioninitialized: opts.onInitialized }),
      // DELETE: gone everywhere before the client hears 200; the transport closes itself right after.
      onsessionclosed: async (closed) => {
        await directory.end(closed, owner).catch(warn('deleted mcp session not ended everywhere'));
        await table.end(closed, 'ended');
      },
    });
    transport.onerror = deps.onerror;
    await server.server.connect(transport);
    const entry: LiveSession = {
      id,
      owner,
      transport,
      server,
      events,
      caller: deps.factory.callerOf(ctx),
      openStreams: 0,
      getStreams: 0,
      lastUsed: now(),
      outbound: undefined,
      lastListChanged: new Map(),
      close: async () => {
        await transport.close();
        await server.server.close();
      },
    };
    shared?.attach(entry);
    return entry;
  }

  /** Ends a session the pool cap pushed out: this copy if held here, and the record everywhere. */
  async function evict(id: string, owner: SessionOwner): Promise<void> {
    if (table.get(id)) return table.end(id, 'evicted');
    await directory.end(id, owner).catch(warn('evicted mcp session not ended everywhere'));
  }

  /** `initialize`: a new session, recorded in its owner's pool (which may push an old one out). */
  async function open(request: Request, options: McpHandlerRequestOptions): Promise<Response> {
    const ctx = contextOf(request, options);
    const owner = ownerOf(deps.factory.callerOf(ctx));
    const id = newSessionId();
    const record: SessionRecord = {
      id,
      owner,
      initialize: initializeParams(options.parsedBody),
      createdAt: now(),
    };
    let evicted: string[];
    try {
      evicted = await directory.open(record, poolCapOf(owner, settings.perUser));
    } catch (err) {
      logger.warn({ err }, 'mcp session not recorded');
      return unavailable();
    }
    for (const gone of evicted) await evict(gone, owner);
    if (!table.hasRoom()) {
      await directory.end(id, owner).catch(() => {});
      return full();
    }
    const entry = await build(id, owner, ctx, {
      muted: { value: false },
      onInitialized: () => table.add(entry),
    });
    const response = await entry.transport.handleRequest(request, options);
    if (!table.get(id)) {
      // The initialize was refused (malformed, batched): nothing to keep.
      await entry.server.server.close();
      await directory.end(id, owner).catch(() => {});
      return response;
    }
    return tracked(response, entry, request);
  }

  /** The session's copy here, made from its record when another instance opened it; else an answer. */
  async function copyFor(
    id: string,
    caller: Caller,
    request: Request,
    options: McpHandlerRequestOptions,
  ): Promise<LiveSession | Response> {
    if (shared === undefined || !isSessionId(id)) return notFound();
    let record: SessionRecord | undefined;
    try {
      record = await directory.find(id);
    } catch (err) {
      logger.warn({ err }, 'mcp session record not readable');
      return unavailable();
    }
    // Another principal's session is answered exactly like one that does not exist.
    if (!record || !isOwner(record.owner, caller)) return notFound();
    if (request.method === 'DELETE') {
      try {
        await directory.end(id, record.owner);
      } catch {
        return unavailable();
      }
      return new Response(null, { status: 200 });
    }
    if (request.method === 'POST' && shared.onlyAnswersForOthers(options.parsedBody)) {
      // Only answers for other instances: no copy is needed here.
      await shared.routeAnswers(id, options.parsedBody);
      return accepted();
    }
    try {
      return await rebuild(record, request, options);
    } catch (error) {
      if (error instanceof SessionsFull) return full();
      logger.warn({ err: error }, 'mcp session copy not rebuilt');
      return notFound();
    }
  }

  /** Counts an SSE response as an open stream until it ends; a GET stream's copy is the writer. */
  function tracked(response: Response, entry: LiveSession, request: Request): Response {
    if (!isEventStream(response)) return response;
    const standalone = request.method === 'GET' && shared !== undefined;
    entry.openStreams++;
    if (standalone) shared.streamOpened(entry);
    return untilEnded(response, request.signal, () => {
      entry.openStreams--;
      entry.lastUsed = now();
      if (standalone) shared.streamEnded(entry);
    });
  }

  return {
    async fetch(request, options = {}) {
      if (request.method === 'POST' && opensSession(options.parsedBody)) return open(request, options);
      const id = request.headers.get('mcp-session-id');
      if (id === null || id === '') {
        return jsonError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      }
      const caller = deps.factory.callerOf(contextOf(request, options));
      let entry = table.get(id);
      // Another principal's session is answered exactly like one that does not exist.
      if (entry && !isOwner(entry.owner, caller)) return notFound();
      if (!entry) {
        const copy = await copyFor(id, caller, request, options);
        if (copy instanceof Response) return copy;
        entry = copy;
      }
      let served = options;
      if (shared && request.method === 'POST' && options.parsedBody !== undefined) {
        const local = await shared.routeAnswers(entry.id, options.parsedBody);
        if (local === undefined) return accepted();
        served = { ...options, parsedBody: local };
      }
      table.touch(entry);
      // Ended elsewhere while the news was lost (or still on its way): this copy ends too.
      if (!(await directory.touch(entry.id, entry.owner).catch(() => true))) {
        await table.end(entry.id, 'ended');
        return notFound();
      }
      entry.caller = caller;
      entry.server.syncTools(
        caller,
        deps.factory.calledTools?.({ era: 'legacy', authInfo: options.authInfo }) ?? [],
      );
      return tracked(await entry.transport.handleRequest(request, served), entry, request);
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
    endedElsewhere: (id) => table.end(id, 'ended'),
    get: (id) => table.get(id),
    get size() {
      return table.size;
    },
    async close() {
      clearInterval(keepOpenAlive);
      await table.close();
      await directory.close();
    },
  };
}

/** A 2025-era request's context, as the server factory reads the caller from it. */
function contextOf(request: Request, options: McpHandlerRequestOptions): McpRequestContext {
  return { era: 'legacy', authInfo: options.authInfo, requestInfo: request };
}

/** The `initialize` params to record (an object; the transport refuses anything else). */
function initializeParams(body: unknown): Record<string, unknown> {
  const params = (body as { params?: unknown } | undefined)?.params;
  return typeof params === 'object' && params !== null && !Array.isArray(params)
    ? (params as Record<string, unknown>)
    : {};
}

/** An `initialize` request (alone, or inside a batch the transport will refuse with a clear 400). */
function opensSession(body: unknown): boolean {
  const isInit = (m: unknown) =>
    typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize';
  return Array.isArray(body) ? body.some(isInit) : isInit(body);
}

const accepted = () => new Response(null, { status: 202 });
const notFound = () => jsonError(404, -32001, 'Session not found');
const full = () =>
  jsonError(503, -32000, 'Too many open sessions on this server; try again later.', { 'retry-after': '30' });
const unavailable = () =>
  jsonError(503, -32000, 'Session state is unavailable; try again shortly.', { 'retry-after': '5' });

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
