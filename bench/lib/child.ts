/**
 * Servers under test run in child processes, so the load generator (this process) never shares an
 * event loop with them. Every child is tracked and killed when the harness exits — on success,
 * on failure, and on Ctrl-C — so a failed run never leaves a server behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildCommand, ChildReply, ReadyMessage } from './ipc.ts';

export interface ServerChild {
  readonly name: string;
  readonly url: string;
  readonly info: Record<string, unknown>;
  readonly pid: number;
  /** Ask the child to do something (mint tokens, report memory…); rejects after `timeoutMs`. */
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Graceful exit (lets --cpu-prof write its profile), then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function scriptPath(relativeToBench: string): string {
  return fileURLToPath(new URL(`../${relativeToBench}`, import.meta.url));
}

export interface SpawnOptions {
  readonly name: string;
  readonly script: string;
  readonly env?: Record<string, string>;
  readonly nodeArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
}

/** Start a server script under tsx and wait for its `ready` IPC message. */
export function spawnServer(opts: SpawnOptions): Promise<ServerChild> {
  hookExit();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.script], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once('exit', () => live.delete(child));

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  child.on('message', (raw: unknown) => {
    const reply = raw as ChildReply;
    if (reply?.type !== 'reply') return;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`${opts.name}: ${reply.error}`));
  });
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`${opts.name} exited (${code ?? signal}) ${stderr.trim()}`));
    }
    pending.clear();
  });

  return new Promise<ServerChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.name} not ready after ${opts.readyTimeoutMs ?? 30_000} ms: ${stderr.trim()}`));
    }, opts.readyTimeoutMs ?? 30_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited before ready (code ${code}): ${stderr.trim()}`));
    };
    child.once('exit', onExit);
    const onReady = (raw: unknown) => {
      const msg = raw as ReadyMessage;
      if (msg?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onReady);
      resolve({
        name: opts.name,
        url: msg.url,
        info: msg.info ?? {},
        pid: child.pid ?? -1,
        call<T>(cmd: string, args?: unknown, timeoutMs = 120_000) {
          return new Promise<T>((res, rej) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              rej(new Error(`${opts.name} is not running`));
              return;
            }
            const id = nextId++;
            const t = setTimeout(() => {
              pending.delete(id);
              rej(new Error(`${opts.name}: ${cmd} timed out after ${timeoutMs} ms`));
            }, timeoutMs);
            pending.set(id, {
              resolve: (v) => {
                clearTimeout(t);
                res(v as T);
              },
              reject: (e) => {
                clearTimeout(t);
                rej(e);
              },
            });
            child.send({ type: 'command', id, cmd, args } satisfies ChildCommand);
          });
        },
        stop: () => stopChild(child),
      });
    };
    child.on('message', onReady);
  });
}

function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send({ type: 'command', id: 0, cmd: 'exit' } satisfies ChildCommand);
    else child.kill('SIGTERM');
  });
}

/** Kill every child still running (used by the harness's `finally`). */
export async function stopAll(children: readonly (ServerChild | undefined)[]): Promise<void> {
  await Promise.all(children.map((c) => c?.stop().catch(() => {})));
}
