/**
 * (c-nginx) Three Sekisho instances behind Debian nginx, on one PostgreSQL schema and one Redis
 * prefix — the cluster of docs/deployment.md on one box. Each instance is a `servers/sekisho.ts`
 * child (its own process and event loop, its own empty data dir); nginx runs the operator's config
 * from test/cluster/support/nginx.ts (round robin, keepalive to the upstreams, access log) with
 * `daemon off`, so it is one more child of this process.
 *
 * This process only orchestrates: the harness sends load to nginx's URL, and asks here for
 * credentials (minted by instance 1; every instance shares the signing key through PostgreSQL) and
 * for CPU time, which is the sum over the three instances and nginx's master and worker — the whole
 * cluster's cost per request. On a 2-core box three instances cannot scale anything: the figure is
 * what the proxy hop and the shared backends cost, not capacity.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxConfig } from '../../test/cluster/support/nginx.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { dropPrefix } from '../../test/helpers/redis.ts';
import { type ServerChild, scriptPath, spawnServer, stopAll } from '../lib/child.ts';
import { serveCommands } from '../lib/ipc.ts';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL, dropSchema, NGINX_PATH } from '../lib/services.ts';

export const CLUSTER_SIZE = 3;

const dir = mkdtempSync(join(tmpdir(), 'sekisho-bench-cluster-'));
const schema = `sekisho_bench_${randomBytes(6).toString('hex')}`;
const prefix = `sekisho-bench-${randomBytes(6).toString('hex')}:`;
const nginxPort = await freePort();
const publicUrl = `http://127.0.0.1:${nginxPort}`;
const env = {
  SEKISHO_BENCH_BACKEND: 'postgres',
  SEKISHO_BENCH_WITH_REDIS: '1',
  SEKISHO_BENCH_SCHEMA: schema,
  SEKISHO_BENCH_REDIS_PREFIX: prefix,
  SEKISHO_BENCH_BASE_URL: publicUrl,
  // 3 × 5 connections: enough for one core's worth of requests each, and polite to a shared server.
  SEKISHO_BENCH_DATABASE_POOL_SIZE: '5',
};

const instances: ServerChild[] = [];
let nginx: ChildProcess | undefined;
const cleanUp = async () => {
  nginx?.kill('SIGQUIT');
  await stopAll(instances);
  await dropSchema(BENCH_DATABASE_URL, schema).catch(() => {});
  await dropPrefix(prefix, BENCH_REDIS_URL).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
};

try {
  const start = (i: number) =>
    spawnServer({
      name: `sekisho-${i}`,
      script: scriptPath('servers/sekisho.ts'),
      env,
      readyTimeoutMs: 120_000,
    });
  // The first one migrates the schema and makes the signing key; the others find both.
  instances.push(await start(1));
  instances.push(...(await Promise.all([2, 3].map(start))));
  nginx = await startNginx(instances.map((i) => Number(new URL(i.url).port)));
} catch (error) {
  await cleanUp();
  throw error;
}

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
serveCommands(
  publicUrl,
  {
    'access-tokens': (args) => instances[0]!.call('access-tokens', args, 600_000),
    cpu: async () => {
      const parts = await Promise.all(instances.map((i) => i.call<NodeJS.CpuUsage>('cpu')));
      const proxy = nginx?.pid ? nginxCpuMicros(nginx.pid, clockTicks) : { user: 0, system: 0 };
      return parts.reduce((sum, p) => ({ user: sum.user + p.user, system: sum.system + p.system }), proxy);
    },
    /** Distinct upstreams nginx sent requests to so far (its access log): all three must answer. */
    upstreams: () => {
      const log = readText(join(dir, 'access.log'));
      return new Set(
        log
          .split('\n')
          .map((l) => l.split(' ')[3])
          .filter(Boolean),
      ).size;
    },
  },
  {
    authenticated: instances[0]!.info.authenticated,
    authNote: instances[0]!.info.authNote,
    instances: CLUSTER_SIZE,
  },
  cleanUp,
);

async function startNginx(upstreams: readonly number[]): Promise<ChildProcess> {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    mkdirSync(join(dir, sub), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ dir, port: nginxPort, upstreams }));
  const child = spawn(NGINX_PATH, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null)
      throw new Error(`nginx exited: ${stderr}${readText(join(dir, 'error.log'))}`);
    const ok = await fetch(`${publicUrl}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not answer on ${publicUrl}: ${stderr}`);
}

/** User and system CPU of nginx's master and its workers, from /proc (µs). */
function nginxCpuMicros(masterPid: number, ticks: number): NodeJS.CpuUsage {
  let user = 0;
  let system = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readText(`/proc/${entry}/stat`);
    // Fields after the parenthesised command: state ppid … utime(14) stime(15), 1-based overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    if (pid !== masterPid && Number(fields[1]) !== masterPid) continue;
    user += (Number(fields[11]) * 1e6) / ticks;
    system += (Number(fields[12]) * 1e6) / ticks;
  }
  return { user, system };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
