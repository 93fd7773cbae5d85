import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * The child side of the harness's IPC: a server script announces `ready` with its URL, then answers
 * commands (`rss`, `exit`, and whatever the script registers, e.g. minting tokens). Commands are
 * never timed — they prepare or inspect a run, outside the measured section.
 */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly url: string;
  readonly info?: Record<string, unknown>;
}
export interface ChildCommand {
  readonly type: 'command';
  readonly id: number;
  readonly cmd: string;
  readonly args?: unknown;
}
export type ChildReply =
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: string };

export type CommandHandler = (args: unknown) => unknown | Promise<unknown>;

export interface MemoryReport {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

function memory(): MemoryReport {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

/** Serve harness commands in a child; `exit` lets `--cpu-prof` flush its profile before exiting. */
export function serveCommands(
  url: string,
  handlers: Record<string, CommandHandler> = {},
  info?: Record<string, unknown>,
  onExit?: () => Promise<void>,
): void {
  if (typeof process.send !== 'function') {
    console.log(`listening on ${url} (no IPC channel: started outside the harness)`);
    return;
  }
  const all: Record<string, CommandHandler> = {
    rss: () => memory(),
    cpu: () => process.cpuUsage(),
    gc: () => {
      (globalThis as { gc?: () => void }).gc?.();
      return memory();
    },
    'profile-start': () => profiler.start(),
    'profile-stop': (args) => profiler.stop((args as { path: string }).path),
    ...handlers,
  };
  process.on('message', async (raw: unknown) => {
    const msg = raw as ChildCommand;
    if (msg?.type !== 'command') return;
    if (msg.cmd === 'exit') {
      await onExit?.().catch(() => {});
      process.exit(0);
    }
    const reply = (r: ChildReply) => process.send?.(r);
    const handler = all[msg.cmd];
    if (!handler) {
      reply({ type: 'reply', id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
      return;
    }
    try {
      reply({ type: 'reply', id: msg.id, ok: true, result: await handler(msg.args) });
    } catch (error) {
      reply({ type: 'reply', id: msg.id, ok: false, error: (error as Error).message });
    }
  });
  // The harness going away (crash, kill) disconnects IPC: never outlive it — but remove what the
  // server made outside its process first (a PostgreSQL schema, Redis keys), within 5 s.
  process.on('disconnect', () => {
    const bound = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
    void Promise.race([onExit?.().catch(() => {}), bound]).finally(() => process.exit(0));
  });
  process.send({ type: 'ready', url, ...(info && { info }) } satisfies ReadyMessage);
}

/**
 * The V8 CPU profiler (what `--cpu-prof` drives), started and stopped by the harness around the
 * measured rounds only, so start-up and module loading stay out of the breakdown.
 */
const profiler = (() => {
  let session: Session | undefined;
  return {
    async start() {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      return true;
    },
    async stop(path: string) {
      if (!session) throw new Error('profiler not started');
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      session = undefined;
      writeFileSync(path, JSON.stringify(profile));
      return path;
    },
  };
})();
