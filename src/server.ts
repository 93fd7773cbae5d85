/**
 * The composition root: builds every part from one Config and starts listening. `main.ts` calls it
 * for the real process; tests call it with PORT=0 to get an isolated server on an ephemeral port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toolServicesFrom } from './app-services/wiring.ts';
import type { Config } from './config/config.ts';
import { withBoundPort } from './config/load.ts';
import { createApp } from './http/app.ts';
import { seedDemoUsers } from './identity/demo.ts';
import { createIdentity, type Identity } from './identity/users.ts';
import { createMcpEndpoint } from './mcp/endpoint.ts';
import { createMcpFastLane } from './mcp/fast-lane/index.ts';
import { createConformanceFixture } from './mcp/fixtures/conformance.ts';
import { createServerFactory, type ServerFactoryDeps } from './mcp/server-factory.ts';
import { type AuthorizationServer, createAuthorizationServer } from './oauth/index.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
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
  /** Local accounts (users, passwords, login throttling) on that storage. */
  readonly identity: Identity;
  /** The resource server: PRM routes, the /mcp gate and its token verifier. */
  readonly resource: ResourceServer;
  /** The authorization server (oidc-provider, pages, token minting, grants). */
  readonly authorizationServer: AuthorizationServer;
  /** Stop accepting, let in-flight requests finish (up to the grace period), release resources. */
  close(): Promise<void>;
}

export async function startSekisho(
  initial: Config,
  opts: { logger?: Logger; storage?: Storage } = {},
): Promise<Sekisho> {
  const logger = opts.logger ?? createLogger(initial.logLevel);
  // Open (and migrate) storage before listening: a bad database must stop start-up, not serve 503s.
  const storage = opts.storage ?? (await openStorage(initial, { logger }));
  const identity = createIdentity({ storage, logger });
  // Demo mode only: the seed's three public test accounts. Outside it, operators add users (CLI).
  const demoUsers = initial.demo ? await seedDemoUsers(identity) : [];
  const server = createServer({ keepAliveTimeout: 5_000, requestTimeout: 60_000, headersTimeout: 20_000 });
  try {
    await listen(server, initial.port, initial.host);
  } catch (error) {
    await storage.close();
    throw error;
  }
  const config = withBoundPort(initial, (server.address() as AddressInfo).port);
  // The issuer follows the bound port, so the parts are built after listening; until they are, a
  // request gets a clear 503 instead of hanging with no listener.
  server.on('request', answerStarting);

  let draining = false;
  const registry = createToolRegistry(config);
  const authorizationServer = await createAuthorizationServer({
    config,
    storage,
    identity,
    registry,
    logger,
  });
  // The resource server (issue #4): PRM, the /mcp bearer gate, and who is calling.
  const resource = createResourceServer({
    config,
    registry,
    keys: keySourceFromStore(storage),
    grants: storage,
    users: storage,
    logger,
  });
  const fixture = config.profile === 'conformance' ? createConformanceFixture() : undefined;
  const factoryDeps: ServerFactoryDeps = {
    config,
    registry,
    services: toolServicesFrom({
      demo: config.demo,
      demoUsers,
      identity,
      storage,
      authorizationServer,
      resource,
    }),
    callerOf: resource.callerOf,
    calledTools: resource.calledTools,
    extend: fixture,
  };
  const factory = createServerFactory(factoryDeps);
  const mcp = createMcpEndpoint(factory, { maxBodyBytes: config.maxBodyBytes, logger });
  fixture?.attachNotifier(mcp.handler.notify);
  const metrics = createMetrics();
  const app = createApp({
    config,
    logger,
    mcp,
    metrics,
    readiness: [{ name: 'storage', check: () => storage.ping() }],
    isDraining: () => draining,
    resourceMetadata: resource.metadataRoutes,
    authorizationServer: authorizationServer.router,
    mcpGate: [resource.gate],
  });
  // The MCP fast lane answers plain tools/call and tools/list in front of Express (issue #5).
  const fastLane = config.fastLane
    ? createMcpFastLane({ factory: factoryDeps, endpoint: mcp, gate: [resource.gate], logger, metrics })
    : undefined;
  server.off('request', answerStarting);
  server.on('request', fastLane ? fastLane.listener(app) : app);
  const stopSweeping = startSweeper(storage, config.sweepIntervalSeconds, logger);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      await drain(server, config.shutdownGraceMs);
      await mcp.close();
      stopSweeping();
      await storage.close();
    })();
    return closing;
  };
  return {
    config,
    logger,
    url: config.baseUrl,
    server,
    storage,
    identity,
    resource,
    authorizationServer,
    close,
  };
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

/** Deletes expired rows every `intervalSeconds` (unref'd: it never keeps the process alive). */
function startSweeper(storage: Storage, intervalSeconds: number, logger: Logger): () => void {
  if (intervalSeconds <= 0) return () => {};
  const timer = setInterval(() => {
    storage.sweep().then(
      (removed) => {
        if (removed > 0) logger.debug({ removed }, 'storage sweep');
      },
      (err: unknown) => logger.warn({ err }, 'storage sweep failed'),
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
