/**
 * Runs the real `src/main.ts` in a child process with a minimal environment (nothing from the
 * developer's shell — no SEKISHO_* — leaks in) and returns its exit code and output, for tests of
 * how the process starts or refuses to.
 */
import { execFile } from 'node:child_process';

export interface MainResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runMain(env: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<MainResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts'],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
