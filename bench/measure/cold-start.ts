/**
 * (h) Cold start, and the idle RSS of the real entry point: build with `npm run build` (tsc → dist/,
 * then the bundle dist/sekisho.mjs), spawn node with the arguments of package.json's start script
 * (what `npm start` runs, flags included) and time spawn → first `GET /readyz` 200; one second later
 * read the process's RSS from /proc. Per round: a first boot on a fresh data dir (migrations, keys,
 * demo users) and a restart on the data dir it left.
 *
 * The same is measured for dev mode, `node --import tsx src/main.ts` (`npm run dev`), to show what
 * the on-the-fly TypeScript loader costs at start-up and in memory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmStartNodeArgs } from '../../test/helpers/npm-start.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const POLL_MS = 5;
const LIMIT_MS = 20_000;

export type StartMode = 'start' | 'dev';

export interface StartSample {
  readonly readyMs: number;
  /** RSS one second after ready (Linux /proc); undefined elsewhere. */
  readonly rssBytes: number | undefined;
}

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

function rssOf(pid: number | undefined): number | undefined {
  try {
    const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** Runs the project's build (`npm run build`) once per run; returns node's arguments as `npm start` gives them. */
export function buildDist(): string[] {
  const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`the build failed (exit ${built.status})`);
  return npmStartNodeArgs().map((arg) => (arg.startsWith('-') ? arg : join(ROOT, arg)));
}

/** Spawn → first 200 from /readyz, then RSS a second later; the process is always killed after. */
export async function timeToReady(dataDir: string, entry: readonly string[]): Promise<StartSample> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...entry], {
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
      if (ok) {
        const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
        await new Promise((r) => setTimeout(r, 1000));
        return { readyMs, rssBytes: rssOf(child.pid) };
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`sekisho not ready after ${LIMIT_MS} ms: ${stderr}`);
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }
}

export interface ColdStart {
  readonly firstBoot: readonly StartSample[];
  readonly restart: readonly StartSample[];
  /** The same in dev mode (tsx loader, `npm run dev`). */
  readonly dev?: { readonly firstBoot: readonly StartSample[]; readonly restart: readonly StartSample[] };
}

export async function measureColdStart(rounds: number): Promise<ColdStart> {
  const modes: [StartMode, readonly string[]][] = [
    ['start', buildDist()],
    ['dev', ['--import', 'tsx', MAIN]],
  ];
  const out = new Map<StartMode, { firstBoot: StartSample[]; restart: StartSample[] }>();
  for (const [mode] of modes) out.set(mode, { firstBoot: [], restart: [] });
  for (let i = 0; i < rounds; i++) {
    for (const [mode, entry] of modes) {
      const dir = mkdtempSync(join(tmpdir(), 'sekisho-cold-'));
      try {
        out.get(mode)!.firstBoot.push(await timeToReady(dir, entry));
        out.get(mode)!.restart.push(await timeToReady(dir, entry));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return { ...out.get('start')!, dev: out.get('dev')! };
}
