/**
 * The one gate every scrypt derivation goes through: a fixed number of dedicated worker threads and a
 * bounded wait queue in front of them.
 *
 * Why not `crypto.scrypt` on the libuv pool: the pool has four threads shared with file I/O and DNS,
 * and four 32 MiB scrypt jobs there keep both cores of a small machine busy, so the event loop (every
 * `/mcp` call, `/healthz`) waits behind password hashing; 200 concurrent sign-in attempts queued ~13 s
 * of hashing ahead of a real user. Here at most `concurrency` derivations run at once, each on its own
 * worker thread (`scryptSync` there: the libuv pool is never touched), and at most `queue` wait; any
 * attempt beyond that is refused at once with `HashBusyError` (→ 503 + Retry-After), so the wait of
 * an admitted attempt is bounded by (queue / concurrency + 1) hash times. No single client address
 * may hold more than a quarter of the slots (running + waiting), so one noisy address cannot fill the
 * queue in front of everyone else: 200 concurrent attempts from one address leave room for the
 * real user next to them.
 *
 * Work for unknown users (dummy verification) and real work take the same path and the same slots, so
 * neither the answer nor the queueing reveals whether an account exists.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface ScryptJob {
  readonly password: Buffer;
  readonly salt: Buffer;
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly length: number;
}

export interface HashLimits {
  /** Derivations running at once (one worker thread each); 0 = `defaultHashConcurrency()`. */
  readonly concurrency: number;
  /** Derivations allowed to wait for a free worker; more are refused with HashBusyError. */
  readonly queue: number;
  /**
   * A worker with no work for this long exits (ms; default 60 s). Each idle worker holds ≈ 10 MB of
   * RSS for a password check that may not come for hours (the demo seeding at first boot, one sign-in
   * a day); the next check starts a new worker, which costs ≈ 20–40 ms beside a ≈ 90 ms hash.
   */
  readonly idleExitMs?: number;
}

/**
 * Too many password checks are already running or waiting: try again shortly. `by` says whose
 * doing it is: this address holds its whole share of the slots (the caller is sending too many —
 * a 429), or the server as a whole is at capacity (a 503).
 */
export class HashBusyError extends Error {
  readonly retryAfterSeconds: number;
  readonly by: 'address' | 'server';
  constructor(retryAfterSeconds: number, by: 'address' | 'server' = 'server') {
    super(
      by === 'address'
        ? 'this address holds its share of password checks'
        : 'password hashing is at capacity',
    );
    this.retryAfterSeconds = retryAfterSeconds;
    this.by = by;
    this.name = 'HashBusyError';
  }
}

export interface HashPool {
  /** Runs the job in turn; `owner` (the client address) is held to its share of the slots. */
  derive(job: ScryptJob, owner?: string): Promise<Buffer>;
  /** Running and waiting derivations, and live worker threads (for tests and metrics). */
  load(): { readonly running: number; readonly queued: number; readonly workers: number };
  /** Terminates the worker threads; later derivations start new ones. */
  close(): Promise<void>;
}

/** Half the cores, at least one: the other half stays free for the event loop. */
export function defaultHashConcurrency(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

export const DEFAULT_HASH_QUEUE = 8;

// Plain JavaScript evaluated in the worker, so the worker needs no TypeScript loader in any setup.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', (job) => {
  try {
    const maxmem = 256 * job.N * job.r * job.p;
    const key = scryptSync(job.password, job.salt, job.length, { N: job.N, r: job.r, p: job.p, maxmem });
    parentPort.postMessage({ key });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});`;

interface Pending {
  readonly job: ScryptJob;
  readonly resolve: (key: Buffer) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | undefined;
  idle: NodeJS.Timeout | undefined;
}

export function createHashPool(limits: HashLimits): HashPool {
  const concurrency = Math.floor(limits.concurrency) || defaultHashConcurrency();
  const capacity = Math.max(0, Math.floor(limits.queue));
  const waiting: Pending[] = [];
  const slots: Slot[] = [];
  const share = Math.max(1, Math.ceil((concurrency + capacity) / 4));
  const held = new Map<string, number>();
  let meanMs = 150;
  const idleExitMs = limits.idleExitMs ?? 60_000;

  function spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'sekisho-scrypt' });
    worker.unref();
    const slot: Slot = { worker, current: undefined, idle: undefined };
    worker.on('message', (message: { key?: Uint8Array; error?: string }) => {
      const done = slot.current;
      slot.current = undefined;
      if (done) {
        if (message.key) done.resolve(Buffer.from(message.key));
        else done.reject(new Error(`scrypt failed: ${message.error}`));
      }
      next(slot);
    });
    const lost = (error: Error) => {
      clearTimeout(slot.idle);
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      slot.current?.reject(error);
      slot.current = undefined;
      if (waiting.length > 0) next(spawnSlot());
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`scrypt worker exited (${code})`)));
    return slot;
  }

  function spawnSlot(): Slot {
    const slot = spawn();
    slots.push(slot);
    return slot;
  }

  /** Out of the pool first (no new work can pick it), then ended; `lost` finds it gone. */
  function retire(slot: Slot): void {
    const index = slots.indexOf(slot);
    if (index < 0 || slot.current !== undefined) return;
    slots.splice(index, 1);
    void slot.worker.terminate();
  }

  function next(slot: Slot): void {
    clearTimeout(slot.idle);
    slot.idle = undefined;
    const pending = waiting.shift();
    if (!pending) {
      slot.idle = setTimeout(() => retire(slot), idleExitMs);
      slot.idle.unref();
      return;
    }
    const started = performance.now();
    // Referenced only while it works: an idle pool never keeps the process alive.
    slot.worker.ref();
    const settle = () => slot.worker.unref();
    slot.current = {
      job: pending.job,
      resolve: (key) => {
        settle();
        // A moving average of the hash time sizes Retry-After for refused attempts.
        meanMs = meanMs * 0.8 + (performance.now() - started) * 0.2;
        pending.resolve(key);
      },
      reject: (error) => {
        settle();
        pending.reject(error);
      },
    };
    slot.worker.postMessage(pending.job);
  }

  return {
    derive(job, owner) {
      const idle = slots.find((s) => s.current === undefined);
      const room = idle !== undefined || slots.length < concurrency;
      const mine = owner === undefined ? 0 : (held.get(owner) ?? 0);
      if ((!room && waiting.length >= capacity) || mine >= share) {
        const drainSeconds = ((waiting.length / concurrency + 1) * meanMs) / 1000;
        const by = mine >= share ? 'address' : 'server';
        return Promise.reject(new HashBusyError(Math.max(1, Math.ceil(drainSeconds)), by));
      }
      if (owner !== undefined) held.set(owner, mine + 1);
      const release = () => {
        if (owner === undefined) return;
        const left = (held.get(owner) ?? 1) - 1;
        if (left > 0) held.set(owner, left);
        else held.delete(owner);
      };
      const result = new Promise<Buffer>((resolve, reject) => {
        waiting.push({ job, resolve, reject });
        if (room) next(idle ?? spawnSlot());
      });
      result.then(release, release);
      return result;
    },
    load: () => ({
      running: slots.filter((s) => s.current !== undefined).length,
      queued: waiting.length,
      workers: slots.length,
    }),
    async close() {
      const all = slots.splice(0);
      for (const s of all) clearTimeout(s.idle);
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
