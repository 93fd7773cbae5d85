/**
 * The three-instance setup in one call, for test files that need the whole cluster and nothing
 * special about how it starts: three `src/main.ts` processes (own ports, own empty data dirs, one
 * fresh PostgreSQL schema, one fresh Redis prefix) behind Debian nginx round robin, with
 * SEKISHO_BASE_URL = the proxy. `close()` stops everything and drops the schema and the prefix.
 *
 * `clusterUnavailable()` says why it cannot run here (skip loudly), and throws under CI=true.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port.ts';
import {
  freshSchema,
  postgresUnavailable,
  TEST_DATABASE_URL,
  type TestSchema,
} from '../../helpers/postgres.ts';
import { dropPrefix, freshPrefix, redisUnavailable, TEST_REDIS_URL } from '../../helpers/redis.ts';
import { type Instance, startInstance } from './instances.ts';
import { type NginxProxy, nginxUnavailable, startNginx } from './nginx.ts';

export interface Cluster {
  readonly instances: readonly Instance[];
  readonly proxy: NginxProxy;
  /** The public base URL (the proxy), also SEKISHO_BASE_URL. */
  readonly base: string;
  /** The environment every instance runs with (for the CLI, which must see the same storage). */
  readonly env: Readonly<Record<string, string>>;
  /** Every instance's log, labelled (for failure messages). */
  logs(): string;
  close(): Promise<void>;
}

export async function clusterUnavailable(): Promise<string | undefined> {
  return nginxUnavailable() ?? (await postgresUnavailable()) ?? (await redisUnavailable());
}

export async function startCluster(label: string, extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), `sekisho-${label}-`));
  let schema: TestSchema | undefined;
  const prefix = freshPrefix(label);
  const instances: Instance[] = [];
  let proxy: NginxProxy | undefined;
  const close = async () => {
    await proxy?.stop();
    await Promise.all(instances.map((i) => i.kill('SIGTERM')));
    await schema?.drop();
    await dropPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    schema = await freshSchema();
    const ports = [await freePort(), await freePort(), await freePort()];
    const proxyPort = await freePort();
    const base = `http://127.0.0.1:${proxyPort}`;
    const env: Record<string, string> = {
      SEKISHO_BASE_URL: base,
      SEKISHO_DATABASE_URL: TEST_DATABASE_URL,
      SEKISHO_DATABASE_SCHEMA: schema.name,
      SEKISHO_REDIS_URL: TEST_REDIS_URL,
      SEKISHO_REDIS_KEY_PREFIX: prefix,
      SEKISHO_LOG_LEVEL: 'warn',
      SEKISHO_SHUTDOWN_GRACE_MS: '1000',
      ...extraEnv,
    };
    // All three start together: migrations run once under the advisory lock, demo users seed once.
    instances.push(
      ...(await Promise.all(
        ports.map((port, i) => startInstance({ name: `${label}-${i + 1}`, port, dir, env })),
      )),
    );
    proxy = await startNginx({ dir: join(dir, 'nginx'), port: proxyPort, upstreams: ports });
    return {
      instances,
      proxy,
      base,
      env,
      logs: () => instances.map((i) => `--- ${i.name}\n${i.log()}`).join('\n'),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
