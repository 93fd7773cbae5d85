/**
 * (c)–(g) Sekisho as it runs in production — `startSekisho(loadConfig(env))`, SQLite in a fresh
 * data dir, demo users — plus harness commands that prepare credentials outside the timed section
 * (access tokens, refresh tokens, authorization codes). The process's stdout is discarded, so the
 * per-request log line is still produced and written (to /dev/null) as in production.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { startSekisho } from '../../src/server.ts';
import { serveCommands } from '../lib/ipc.ts';
import { authCommands } from './sekisho-auth.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-bench-'));
const sekisho = await startSekisho(
  loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    SEKISHO_DATA_DIR: dataDir,
    SEKISHO_DEMO: '1',
    SEKISHO_LOG_LEVEL: process.env.SEKISHO_LOG_LEVEL ?? 'info',
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
  },
);
