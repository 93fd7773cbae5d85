/**
 * (c)–(g) Sekisho as it runs in production — `startSekisho(loadConfig(env))`, SQLite in a fresh
 * data dir, demo users — or, with SEKISHO_BENCH_BACKEND=postgres (c-pg), on PostgreSQL in a fresh
 * schema (SEKISHO_BENCH_DATABASE_URL, default the local server; dropped on exit) and on Redis when
 * SEKISHO_BENCH_REDIS_URL is set — plus harness commands that prepare credentials outside the timed section
 * (access tokens, refresh tokens, authorization codes). The process's stdout is discarded, so the
 * per-request log line is still produced and written (to /dev/null) as in production.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.ts';
import { startSekisho } from '../../src/server.ts';
import { serveCommands } from '../lib/ipc.ts';
import { authCommands } from './sekisho-auth.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-bench-'));
const onPostgres = process.env.SEKISHO_BENCH_BACKEND === 'postgres';
const databaseUrl = process.env.SEKISHO_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sekisho_bench_${randomBytes(6).toString('hex')}`;
const sekisho = await startSekisho(
  loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    SEKISHO_DATA_DIR: dataDir,
    SEKISHO_DEMO: '1',
    SEKISHO_LOG_LEVEL: process.env.SEKISHO_LOG_LEVEL ?? 'info',
    ...(onPostgres && { SEKISHO_DATABASE_URL: databaseUrl, SEKISHO_DATABASE_SCHEMA: schema }),
    ...(onPostgres &&
      process.env.SEKISHO_BENCH_REDIS_URL !== undefined && {
        SEKISHO_REDIS_URL: process.env.SEKISHO_BENCH_REDIS_URL,
      }),
    // Lets a run compare the fast lane with the full pipeline (SEKISHO_FAST_LANE=0 npm run bench).
    ...(process.env.SEKISHO_FAST_LANE !== undefined && { SEKISHO_FAST_LANE: process.env.SEKISHO_FAST_LANE }),
  }),
);
const auth = await authCommands(sekisho);
const port = new URL(sekisho.url).port;
serveCommands(
  `http://127.0.0.1:${port}`,
  auth.commands,
  { authenticated: auth.available, authNote: auth.note },
  async () => {
    await sekisho.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (onPostgres) await dropSchema(databaseUrl, schema);
  },
);

async function dropSchema(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  } finally {
    await client.end();
  }
}
