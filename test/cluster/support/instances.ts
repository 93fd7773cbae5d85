/**
 * Sekisho instances as real child processes — the way an operator runs them: `src/main.ts` with
 * nothing but environment variables. Each has its own port and its own empty SEKISHO_DATA_DIR; they
 * share one PostgreSQL schema and one Redis prefix. Output goes to a log file per instance (read on
 * failure), so a killed instance leaves its last lines behind.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAIN_ENTRY = 'src/main.ts';
export const CLI_ENTRY = 'bin/sekisho.js';

export interface Instance {
  readonly name: string;
  readonly port: number;
  /** Direct URL (bypassing the proxy). */
  readonly url: string;
  readonly child: ChildProcess;
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startInstance(opts: {
  name: string;
  port: number;
  dir: string;
  env: Record<string, string>;
}): Promise<Instance> {
  const dataDir = join(opts.dir, `${opts.name}-data`);
  mkdirSync(dataDir, { recursive: true });
  const logPath = join(opts.dir, `${opts.name}.log`);
  const out = openSync(logPath, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN_ENTRY], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...opts.env,
      HOST: '127.0.0.1',
      PORT: String(opts.port),
      SEKISHO_DATA_DIR: dataDir,
    },
    stdio: ['ignore', out, out],
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const log = () => readFileSync(logPath, 'utf8');
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${opts.name} exited ${child.exitCode}:\n${log()}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (i > 600) throw new Error(`${opts.name} not ready after 60 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: opts.name,
    port: opts.port,
    url,
    child,
    log,
    kill(signal = 'SIGTERM') {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
    },
  };
}

/** Runs the `sekisho` CLI with the cluster's environment; resolves with its exit code and output. */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_ENTRY, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
