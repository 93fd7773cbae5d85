/**
 * (c)–(g) Sekisho as it runs in production — `startSekisho(loadConfig(env))`, SQLite in a fresh
 * data dir, demo users — plus harness commands that prepare credentials outside the timed section
 * (access tokens, refresh tokens, authorization codes). The process's stdout is discarded, so the
 * per-request log line is still produced and written (to /dev/null) as in production.
 *
 * Backends, chosen by the harness through the environment:
 *  - SEKISHO_BENCH_BACKEND=postgres (c-pg): PostgreSQL at SEKISHO_BENCH_DATABASE_URL (default the
 *    local server) in a fresh schema, dropped on exit — or in SEKISHO_BENCH_SCHEMA when given (the
 *    cluster's instances share one; its owner drops it);
 *  - SEKISHO_BENCH_WITH_REDIS=1 (c-pg-redis): plus Redis at SEKISHO_BENCH_REDIS_URL (default
 *    127.0.0.1:6379) under a fresh key prefix whose keys are deleted on exit — or under
 *    SEKISHO_BENCH_REDIS_PREFIX when given (shared, left to its owner);
 *  - SEKISHO_BENCH_BASE_URL: the public URL (the cluster's nginx), so every instance issues and
 *    accepts tokens for the same resource.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { startSekisho } from '../../src/server.ts';
import { dropPrefix } from '../../test/helpers/redis.ts';
import { serveCommands } from '../lib/ipc.ts';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, dropSchema } from '../lib/services.ts';
import { authCommands } from './sekisho-auth.ts';

const env = process.env;
const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-bench-'));
const onPostgres = env.SEKISHO_BENCH_BACKEND === 'postgres';
const withRedis = onPostgres && env.SEKISHO_BENCH_WITH_REDIS === '1';
const ownSchema = env.SEKISHO_BENCH_SCHEMA === undefined;
const schema = env.SEKISHO_BENCH_SCHEMA ?? `sekisho_bench_${randomBytes(6).toString('hex')}`;
const ownPrefix = env.SEKISHO_BENCH_REDIS_PREFIX === undefined;
const prefix = env.SEKISHO_BENCH_REDIS_PREFIX ?? `sekisho-bench-${randomBytes(6).toString('hex')}:`;
const sekisho = await startSekisho(
  loadConfig({
    HOST: '127.0.0.1',
    PORT: env.SEKISHO_BENCH_PORT ?? '0',
    SEKISHO_DATA_DIR: dataDir,
    SEKISHO_DEMO: '1',
    SEKISHO_LOG_LEVEL: env.SEKISHO_LOG_LEVEL ?? 'info',
    ...(env.SEKISHO_BENCH_BASE_URL !== undefined && { SEKISHO_BASE_URL: env.SEKISHO_BENCH_BASE_URL }),
    ...(onPostgres && { SEKISHO_DATABASE_URL: BENCH_DATABASE_URL, SEKISHO_DATABASE_SCHEMA: schema }),
    ...(onPostgres &&
      env.SEKISHO_BENCH_DATABASE_POOL_SIZE !== undefined && {
        SEKISHO_DATABASE_POOL_SIZE: env.SEKISHO_BENCH_DATABASE_POOL_SIZE,
      }),
    ...(withRedis && { SEKISHO_REDIS_URL: BENCH_REDIS_URL, SEKISHO_REDIS_KEY_PREFIX: prefix }),
    // (d) is the 2025-06-18 stateless POST, beside the SDK's stateless recipe (b-legacy): sessions
    // off, as with SEKISHO_REDIS_URL (with sessions a POST without initialize is a 400). Set
    // SEKISHO_MCP_SESSIONS=1 to run the bench's servers with them anyway.
    SEKISHO_MCP_SESSIONS: env.SEKISHO_MCP_SESSIONS ?? '0',
    // Lets a run compare the fast lane with the full pipeline (SEKISHO_FAST_LANE=0 npm run bench).
    ...(env.SEKISHO_FAST_LANE !== undefined && { SEKISHO_FAST_LANE: env.SEKISHO_FAST_LANE }),
  }),
);
const auth = await authCommands(sekisho);
// The bound port, not the public URL's (behind nginx they differ).
const { port } = sekisho.server.address() as AddressInfo;
serveCommands(
  `http://127.0.0.1:${port}`,
  auth.commands,
  {
    authenticated: auth.available,
    authNote: auth.note,
    backend: withRedis ? 'postgres+redis' : onPostgres ? 'postgres' : 'sqlite',
  },
  async () => {
    await sekisho.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (onPostgres && ownSchema) await dropSchema(BENCH_DATABASE_URL, schema);
    if (withRedis && ownPrefix) await dropPrefix(prefix, BENCH_REDIS_URL);
  },
);
