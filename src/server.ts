/**
 * The composition root: builds every part from one Config and starts listening. `main.ts` calls it
 * for the real process; tests call it with PORT=0 to get an isolated server on an ephemeral port.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Caller } from './access/policy.ts';
import { externalToolServices, toolServicesFrom } from './app-services/wiring.ts';
import { type Audit, createAudit } from './audit/audit.ts';
import { pruneAuditLog, recordExpiredClients } from './audit/retention.ts';
import { composeStorage } from './cluster/compose-storage.ts';
import { keepGateCacheFresh, trustedAgeMs } from './cluster/gate-cache-freshness.ts';
import type { Invalidation } from './cluster/invalidation-bus.ts';
import { createRedisSessionDirectory } from './cluster/redis-session-directory.ts';
import { openSharedState, type SharedStateHandle } from './cluster/shared-state.ts';
import { type Config, mcpResourceUrl } from './config/config.ts';
import { withBoundPort } from './config/load.ts';
import { createApp } from './http/app.ts';
import { hostAllowed } from './http/header-guards.ts';
import { externalAuthorizationInfo, homeRoute } from './http/home.ts';
import { originFormTargets } from './http/request-target.ts';
import { drainUnreadBodies } from './http/unread-body.ts';
import { seedDemoUsers } from './identity/demo.ts';
import { createHashPool } from './identity/hash-pool.ts';
import { createIdentity, type Identity, type LoginThrottle } from './identity/users.ts';
import { createMcpEndpoint, type McpEndpoint } from './mcp/endpoint.ts';
import { createMcpFastLane } from './mcp/fast-lane/index.ts';
import { type ConformanceFixture, createConformanceFixture } from './mcp/fixtures/conformance.ts';
import { createServerFactory, type ServerFactoryDeps } from './mcp/server-factory.ts';
import type { LegacySessions } from './mcp/sessions/legacy-sessions.ts';
import { oauthApiLane } from './oauth/api-lane.ts';
import { type AuthorizationServer, createAuthorizationServer } from './oauth/index.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { withRequestContext } from './observability/request-context.ts';
import { createRequestObserver } from './observability/request-observer.ts';
import { createDpopNonces } from './resource/dpop-nonce.ts';
import {
  createExternalTokenVerifier,
  discoverWithRetry,
  type ExternalServerMetadata,
  verificationPlan,
} from './resource/external/index.ts';
import { createGrantCache, type GrantCache } from './resource/grant-cache.ts';
import { keySourceFromStore } from './resource/keys.ts';
import { createResourceServer, type ResourceServer } from './resource/resource-server.ts';
import { openStorage } from './storage/open.ts';
import type { Storage } from './storage/types.ts';
import { createToolRegistry } from './tools/registry.ts';

export interface Sekisho {
  readonly config: Config;
  readonly logger: Logger;
  /** The base URL actually served (follows the bound port when PORT=0). */
  readonly url: string;
  readonly server: Server;
  /** The persistence every part shares: PostgreSQL (SEKISHO_DATABASE_URL), else SQLite under dataDir, unless injected. */
  readonly storage: Storage;
  /** State shared with other instances without persisting it: throttles, replay cache, the bus. */
  readonly shared: SharedStateHandle;
  /** Local accounts (users, passwords, login throttling) on that storage. */
  readonly identity: Identity;
  /** The audit log's one emit point: every security event is recorded through it. */
  readonly audit: Audit;
  /** The resource server: PRM routes, the /mcp gate and its token verifier. */
  readonly resource: ResourceServer;
  /** The gate's grant + user cache (its counters, for tests and diagnostics); undefined when turned off. */
  readonly gateCache: GrantCache | undefined;
  /**
   * The built-in authorization server (oidc-provider, pages, token minting, grants); undefined in
   * resource-server-only mode (SEKISHO_EXTERNAL_ISSUER), where another server issues the tokens.
   */
  readonly authorizationServer: AuthorizationServer | undefined;
  /** Resource-server-only mode: the external authorization server's metadata, as discovered at start. */
  readonly externalIssuer: ExternalServerMetadata | undefined;
  /** 2025-era MCP sessions; undefined with SEKISHO_MCP_SESSIONS=0. */
  readonly mcpSessions: LegacySessions | undefined;
  /** Stop accepting, let in-flight requests finish (up to the grace period), release resources. */
  close(): Promise<void>;
}

function loginThrottle(config: Config): LoginThrottle {
  const { login } = config;
  return {
    perAccountIp: login.attemptsPerAccountIp,
    perIp: login.failuresPerIp,
    windowSeconds: login.windowSeconds,
    delayAfter: login.delayAfterFailures,
    maxDelayMs: login.maxDelayMs,
  };
}

export async function startSekisho(
  initial: Config,
  opts: { logger?: Logger; storage?: Storage; shared?: SharedStateHandle } = {},
): Promise<Sekisho> {
  const logger = opts.logger ?? createLogger(initial.logLevel);
  // Resource-server-only mode: learn the external server's metadata first (bounded retries), so a
  // wrong or unreachable issuer stops start-up with one line before anything is opened.
  const external = initial.externalIssuer;
  const externalMetadata = external ? await discoverWithRetry(external, logger) : undefined;
  if (external && externalMetadata) verificationPlan(external, externalMetadata);
  // Open (and migrate) storage before listening: a bad database must stop start-up, not serve 503s.
  const durable = opts.storage ?? (await openStorage(initial, { logger }));
  // Likewise Redis: an instance whose throttles cannot work must not start (bounded retry, then exit).
  let shared: SharedStateHandle;
  try {
    shared = opts.shared ?? (await openSharedState(initial, { logger }));
  } catch (error) {
    await durable.close();
    throw error;
  }
  const storage = composeStorage(durable, { rateLimits: shared.rateLimits, bus: shared.bus, logger });
  // One bounded hashing pool per server: sign-in bursts queue here, not on the event loop's cores.
  const hashPool = createHashPool(initial.passwordHash);
  // Metrics first: the security counters observe the audit log's emit point.
  const metrics = createMetrics();
  const audit = createAudit({ storage, logger, observers: [metrics.security.observeAudit] });
  const identity = createIdentity({ storage, logger, audit, hashPool, throttle: loginThrottle(initial) });
  // Demo mode only: the seed's three public test accounts. Outside it, operators add users (CLI).
  const demoUsers = initial.demo ? await seedDemoUsers(identity) : [];
  const server = createServer({ keepAliveTimeout: 5_000, requestTimeout: 60_000, headersTimeout: 20_000 });
  try {
    await listen(server, initial.port, initial.host);
  } catch (error) {
    await shared.close();
    await storage.close();
    await hashPool.close();
    throw error;
  }
  const config = withBoundPort(initial, (server.address() as AddressInfo).port);
  // The issuer follows the bound port, so the parts are built after listening; until they are, a
  // request gets a clear 503 instead of hanging with no listener.
  server.on('request', answerStarting);

  let draining = false;
  const registry = createToolRegistry(config);
  // One-time values (device polls, DPoP proof ids): in Redis when configured, so every instance sees a
  // value used on any other; in process otherwise.
  const replay = shared.replay;
  // Off in resource-server-only mode: no provider, no pages, no /oauth routes, no discovery document.
  const authorizationServer = external
    ? undefined
    : await createAuthorizationServer({ config, storage, identity, registry, logger, audit, replay });
  // The gate's grant + user reads, cached until a revocation or change says otherwise (issue #15).
  const gateCache =
    config.gateCacheSize > 0
      ? createGrantCache({
          load: storage.findGrantAndUser,
          maxEntries: config.gateCacheSize,
          maxAgeMs: () => trustedAgeMs(shared.bus, durable),
        })
      : undefined;
  // Subscribed before the first request is served, so no change can slip between the two.
  const stopGateCache = gateCache && keepGateCacheFresh(gateCache, { bus: shared.bus, storage: durable });
  // The resource server (issue #4): PRM, the /mcp bearer gate, and who is calling.
  const resource = createResourceServer({
    config,
    registry,
    keys: keySourceFromStore(storage),
    grants: storage,
    gate: gateCache ?? storage,
    logger,
    replay,
    onStepUp:
      authorizationServer &&
      ((grantId, scopes) => {
        metrics.security.stepUpChallenged();
        return authorizationServer.noteStepUp(grantId, scopes);
      }),
    onRejected: metrics.security.tokenRejected,
    dpopNonces:
      config.dpopNonces && authorizationServer
        ? createDpopNonces(() => authorizationServer.dpopNonceKeys())
        : undefined,
    verifier:
      external && externalMetadata
        ? createExternalTokenVerifier({
            settings: external,
            metadata: externalMetadata,
            resourceUrl: mcpResourceUrl(config),
          })
        : undefined,
  });
  const externalInfo = externalMetadata && externalAuthorizationInfo(externalMetadata);
  const fixture =
    config.profile === 'conformance'
      ? createConformanceFixture({
          requestStateKeys: requestStateKeysFor(authorizationServer),
          announce: (lists) =>
            shared.bus.publish({ type: 'conformance.lists', ...lists }).catch((err: unknown) => {
              // Delivered here already; only the other instances missed it.
              logger.warn({ err }, 'conformance list change not announced to other instances');
            }),
        })
      : undefined;
  const factoryDeps: ServerFactoryDeps = {
    config,
    registry,
    services: authorizationServer
      ? toolServicesFrom({
          demo: config.demo,
          demoUsers,
          identity,
          storage,
          authorizationServer,
          resource,
          audit,
        })
      : externalToolServices({
          issuer: externalMetadata!.issuer,
          endpoints: externalInfo!.endpoints,
          resource,
          identity,
          audit,
        }),
    callerOf: resource.callerOf,
    calledTools: resource.calledTools,
    extend: fixture,
  };
  const factory = createServerFactory(factoryDeps);
  // With Redis, 2025-era sessions are known to every instance: a request of one may land anywhere.
  const sessionDirectory =
    config.mcpSessions && shared.redis
      ? await createRedisSessionDirectory(shared.redis, {
          prefix: config.redisKeyPrefix,
          bus: shared.bus,
          idleSeconds: config.mcpSessions.idleSeconds,
          limits: { events: config.mcpSessions.events, bytes: config.mcpSessions.eventBytes },
          logger,
        })
      : undefined;
  const mcp = createMcpEndpoint(factory, {
    maxBodyBytes: config.maxBodyBytes,
    logger,
    ...(config.mcpSessions && {
      sessions: {
        deps: factoryDeps,
        settings: config.mcpSessions,
        recheck: async (caller: Caller) => (caller.kind === 'user' ? resource.recheck(caller) : caller),
        ...(sessionDirectory && { directory: sessionDirectory }),
      },
    }),
  });
  fixture?.attachNotifier(mcp.handler.notify);
  const observe = createRequestObserver(logger, metrics);
  const app = createApp({
    config,
    logger,
    mcp,
    metrics,
    observe,
    readiness: [{ name: 'storage', check: () => storage.ping() }, ...shared.readiness],
    isDraining: () => draining,
    resourceMetadata: resource.metadataRoutes,
    authorizationServer: authorizationServer?.router,
    errorPage: authorizationServer?.sendErrorPage,
    mcpGate: [resource.gate],
    home: homeRoute(config, registry, externalInfo),
  });
  // In front of Express (SEKISHO_FAST_LANE): the MCP fast lane answers plain tools/call and
  // tools/list (issue #5); the OAuth API lane hands the token, introspection, revocation and JWKS
  // requests to oidc-provider (issue #15).
  const fastLane = config.fastLane
    ? createMcpFastLane({ factory: factoryDeps, endpoint: mcp, gate: [resource.gate], logger, observe })
    : undefined;
  const apiLane =
    config.fastLane && authorizationServer
      ? oauthApiLane({
          handle: authorizationServer.handleProtocolRequest,
          hostAllowed: hostAllowed(config),
          observe,
        })
      : undefined;
  const lanes = (full: RequestListener): RequestListener => {
    const withMcp = fastLane ? fastLane.listener(full) : full;
    return apiLane ? apiLane(withMcp) : withMcp;
  };
  // Listen for changes first, then re-read the keys once: instances starting together each create a
  // first key (one ends up active), and an announcement sent before we subscribed would be missed.
  const stopFollowing = followInvalidations(
    shared,
    authorizationServer,
    resource,
    config,
    logger,
    mcp,
    fixture,
  );
  await resource.verifier.reloadKeys().catch((err: unknown) => {
    // An external key set that cannot be read yet is retried on the first token (503 until then).
    if (!external) throw err;
    logger.warn({ err }, 'external key set not readable yet');
  });
  await authorizationServer?.reloadKeys();
  server.off('request', answerStarting);
  // Absolute-form targets become origin-form (http/request-target.ts); answers given before a body
  // is read still reach the client (http/unread-body.ts).
  const listener = drainUnreadBodies(originFormTargets(withRequestContext(lanes(app))), {
    maxDrainBytes: 4 * config.maxBodyBytes,
    drainMs: 10_000,
  });
  server.on('request', listener);
  const stopSweeping = startSweeper(storage, audit, config, logger);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      await drain(server, config.shutdownGraceMs);
      await mcp.close();
      stopSweeping();
      stopFollowing();
      stopGateCache?.();
      await shared.close();
      await storage.close();
      await hashPool.close();
    })();
    return closing;
  };
  return {
    config,
    logger,
    url: config.baseUrl,
    server,
    storage,
    shared,
    identity,
    audit,
    resource,
    gateCache,
    authorizationServer,
    externalIssuer: externalMetadata,
    mcpSessions: mcp.sessions,
    close,
  };
}

/**
 * The conformance profile's `requestState` keys: derived from the signing keys in storage (the same on
 * every instance) with the built-in authorization server. A resource server only (external issuer)
 * holds no private key to derive from, so one process-wide random key: right for one instance only.
 */
function requestStateKeysFor(as: AuthorizationServer | undefined): () => readonly Uint8Array[] {
  if (as) return () => as.requestStateKeys();
  const processKey = [randomBytes(32)];
  return () => processKey;
}

function answerStarting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
  res.end('{"status":"starting"}');
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting; close idle keep-alive sockets now and busy ones once they finish or the grace ends. */
function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * What this instance does when shared state changes elsewhere. Keys: a rotation (CLI or another
 * instance) is taken up at once on a `keys.rotated` event, and in any case within
 * `SEKISHO_KEY_CHECK_SECONDS` by re-reading the key store — the bound that holds without Redis or when
 * a message was lost. The verifier re-reads first, so this instance accepts the new key before it signs
 * with it. Grants and users: cached verdicts of the token verifier are dropped, sessions ended or
 * re-read (the gate's grant + user cache follows the same events: cluster/gate-cache-freshness.ts).
 */
function followInvalidations(
  shared: SharedStateHandle,
  as: AuthorizationServer | undefined,
  resource: ResourceServer,
  config: Config,
  logger: Logger,
  mcp: McpEndpoint,
  fixture: ConformanceFixture | undefined,
): () => void {
  const reloadKeys = async () => {
    await resource.verifier.reloadKeys();
    await as?.reloadKeys();
  };
  const reloadLogged = () =>
    void reloadKeys().catch((err: unknown) => logger.warn({ err }, 'key reload failed'));
  const unsubscribe = shared.bus.subscribe((event: Invalidation) => {
    switch (event.type) {
      case 'keys.rotated':
        return reloadLogged();
      case 'grant.revoked':
        resource.verifier.forgetWhere({ grantId: event.grantId });
        // A session lives no longer than the authorization it was opened under.
        return void mcp.sessions?.endWhere((owner) => owner.grantId === event.grantId, 'revoked');
      case 'user.changed':
        resource.verifier.forgetWhere({ subject: event.userId });
        // 2026-07-28 subscriptions/listen streams: the SDK's events carry no principal, so every
        // listener is told to re-list (what they then see is decided per request, as always).
        mcp.handler.notify.toolsChanged();
        // Their sessions re-read them: a new role changes the tools they see (tools/list_changed).
        return void mcp.sessions?.userChanged(event.userId).catch((err: unknown) => {
          logger.warn({ err }, 'session update after a user change failed');
        });
      case 'session.ended':
        return void mcp.sessions?.endedElsewhere(event.sessionId);
      case 'user.removed':
        resource.verifier.forgetWhere({ subject: event.userId });
        return void mcp.sessions?.endWhere(
          (owner) => owner.kind === 'user' && owner.subject === event.userId,
          'revoked',
        );
      case 'conformance.lists':
        return fixture?.listsChanged(event);
    }
  });
  // Our own keys live in storage and are polled; an external server's key set is re-read by the
  // verifier itself (cache age, unknown kid).
  const timer = as ? setInterval(reloadLogged, config.keyCheckSeconds * 1000) : undefined;
  timer?.unref();
  return () => {
    unsubscribe();
    clearInterval(timer);
  };
}

/**
 * Deletes expired rows, and audit records past SEKISHO_AUDIT_RETENTION_DAYS, every sweep interval
 * (unref'd: it never keeps the process alive).
 */
function startSweeper(
  storage: Storage,
  audit: Audit,
  config: Pick<Config, 'sweepIntervalSeconds' | 'auditRetentionDays' | 'clientIdleTtlSeconds'>,
  logger: Logger,
): () => void {
  const intervalSeconds = config.sweepIntervalSeconds;
  if (intervalSeconds <= 0) return () => {};
  const timer = setInterval(() => {
    // Expired clients first, one by one into the audit log; then everything else expired, in bulk.
    recordExpiredClients(storage, audit, config.clientIdleTtlSeconds)
      .catch((err: unknown) => logger.warn({ err }, 'expired clients not recorded'))
      .then(() => storage.sweep())
      .then(
        (removed) => {
          if (removed > 0) logger.debug({ removed }, 'storage sweep');
        },
        (err: unknown) => logger.warn({ err }, 'storage sweep failed'),
      );
    if (config.auditRetentionDays > 0) {
      pruneAuditLog(storage, config.auditRetentionDays).then(
        (pruned) => {
          if (pruned > 0) logger.info({ pruned }, 'audit records past retention deleted');
        },
        (err: unknown) => logger.warn({ err }, 'audit pruning failed'),
      );
    }
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
