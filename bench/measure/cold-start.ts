/**
 * (h) Cold start: spawn the real entry point (`node --import tsx src/main.ts`, as `npm start`
 * does) and time spawn → first `GET /readyz` 200. Twice per round: on a fresh data dir (first
 * boot: migrations, keys, demo users) and on the data dir the first boot left (a restart).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const POLL_MS = 5;
const LIMIT_MS = 20_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Milliseconds from spawn to the first 200 from /readyz; the process is always killed after. */
export async function timeToReady(dataDir: string): Promise<number> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      SEKISHO_DATA_DIR: dataDir,
      SEKISHO_DEMO: '1',
      SEKISHO_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  try {
    const deadline = Date.now() + LIMIT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`sekisho exited (${child.exitCode}) before ready: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return Number(process.hrtime.bigint() - started) / 1e6;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`sekisho not ready after ${LIMIT_MS} ms: ${stderr}`);
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }
}

export interface ColdStart {
  readonly firstBootMs: number[];
  readonly restartMs: number[];
}

export async function measureColdStart(rounds: number): Promise<ColdStart> {
  const firstBootMs: number[] = [];
  const restartMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'sekisho-cold-'));
    try {
      firstBootMs.push(await timeToReady(dir));
      restartMs.push(await timeToReady(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { firstBootMs, restartMs };
}
