/**
 * Start a real Sekisho for a test: ephemeral port on loopback, a fresh temp data dir, silent logs.
 * Every setting can be overridden through `env` (the same names operators use), e.g.
 * `startTestServer({ SEKISHO_DEMO: '1' })` or `startTestServer({ SEKISHO_PROFILE: 'conformance' })`.
 *
 *   const srv = await startTestServer();
 *   after(() => srv.close());
 *   await fetch(`${srv.url}/healthz`);
 *
 * `SEKISHO_TEST_BACKEND=postgres` runs the server on PostgreSQL instead of SQLite: a fresh schema
 * on the SEKISHO_TEST_DATABASE_URL server (see postgres.ts), dropped on close. Tests that pass
 * their own SEKISHO_DATABASE_URL keep it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/config.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { type Sekisho, startSekisho } from '../../src/server.ts';
import { freshSchema, postgresUnavailable, TEST_DATABASE_URL, type TestSchema } from './postgres.ts';

/** The backend test servers run on: `sqlite` (default) or `postgres` (SEKISHO_TEST_BACKEND). */
export function testBackend(): 'sqlite' | 'postgres' {
  return process.env.SEKISHO_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
}

async function postgresSchemaFor(env: Record<string, string>): Promise<TestSchema | undefined> {
  if (testBackend() !== 'postgres' || env.SEKISHO_DATABASE_URL !== undefined) return undefined;
  const unavailable = await postgresUnavailable();
  if (unavailable) throw new Error(`SEKISHO_TEST_BACKEND=postgres but ${unavailable}`);
  return freshSchema();
}

export interface TestServer {
  /** Base URL actually served, e.g. `http://localhost:40123` (no trailing slash). */
  readonly url: string;
  /** `${url}/mcp`. */
  readonly mcpUrl: string;
  /** Loopback URL of the same server by IP (`http://127.0.0.1:<port>`), for tools that dislike `localhost`. */
  readonly loopbackUrl: string;
  readonly port: number;
  readonly config: Config;
  readonly dataDir: string;
  readonly sekisho: Sekisho;
  /** Graceful close, then the temp data dir is removed. Safe to call twice. */
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** A logger to use instead of the one built from SEKISHO_LOG_LEVEL (e.g. to capture lines). */
  readonly logger?: Logger;
}

export async function startTestServer(
  env: Record<string, string> = {},
  opts: TestServerOptions = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-test-'));
  const schema = await postgresSchemaFor(env);
  let sekisho: Sekisho;
  try {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SEKISHO_DATA_DIR: dataDir,
      SEKISHO_LOG_LEVEL: 'silent',
      ...(schema
        ? {
            SEKISHO_DATABASE_URL: TEST_DATABASE_URL,
            SEKISHO_DATABASE_SCHEMA: schema.name,
            SEKISHO_DATABASE_POOL_SIZE: '4',
          }
        : {}),
      ...env,
    });
    sekisho = await startSekisho(config, opts.logger ? { logger: opts.logger } : {});
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    await schema?.drop();
    throw error;
  }
  const address = sekisho.server.address();
  const port = typeof address === 'object' && address ? address.port : sekisho.config.port;
  let closing: Promise<void> | undefined;
  return {
    url: sekisho.url,
    mcpUrl: `${sekisho.url}/mcp`,
    loopbackUrl: `http://127.0.0.1:${port}`,
    port,
    config: sekisho.config,
    dataDir,
    sekisho,
    close() {
      closing ??= sekisho.close().finally(async () => {
        rmSync(dataDir, { recursive: true, force: true });
        await schema?.drop();
      });
      return closing;
    },
  };
}
