/**
 * What the /mcp bearer gate costs per request, measured in process (no HTTP): token verification
 * with and without the verdict cache, the grant + user reads (the two single-row reads, the joined
 * read a cache miss does, and a hit of the gate's cache), and the whole gate middleware on the
 * cached-token path. Each line gives wall and CPU µs per operation (CPU is the steadier figure on a
 * shared machine).
 *
 *   node --import tsx scripts/measure-gate.ts [iterations]
 *   SEKISHO_GATE_CACHE_SIZE=0 node --import tsx scripts/measure-gate.ts   # the gate without its cache
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { loadConfig } from '../src/config/load.ts';
import { startSekisho } from '../src/server.ts';

const N = Number(process.argv[2] ?? 5000);
const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-measure-'));
const sekisho = await startSekisho(
  loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SEKISHO_LOG_LEVEL: 'silent',
    SEKISHO_DATA_DIR: dataDir,
    SEKISHO_DEMO: '1',
    ...(process.env.SEKISHO_GATE_CACHE_SIZE !== undefined && {
      SEKISHO_GATE_CACHE_SIZE: process.env.SEKISHO_GATE_CACHE_SIZE,
    }),
  }),
);
try {
  const admin = (await sekisho.identity.findByUsername('admin'))!;
  const { accessToken } = await sekisho.authorizationServer!.issueAccessToken({ accountId: admin.id });
  const gid = decodeJwt(accessToken).gid as string;
  const { verifier } = sekisho.resource;
  const { storage } = sekisho;

  async function time(label: string, fn: () => Promise<unknown>) {
    for (let i = 0; i < Math.min(500, N); i++) await fn(); // warm-up
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    for (let i = 0; i < N; i++) await fn();
    const used = process.cpuUsage(cpu);
    const us = Number(process.hrtime.bigint() - start) / 1e3 / N;
    const cpuUs = (used.user + used.system) / N;
    console.log(
      `${label.padEnd(44)} ${us.toFixed(1).padStart(7)} µs/op  ${cpuUs.toFixed(1).padStart(7)} CPU µs/op  (n=${N})`,
    );
  }

  await time('verify, uncached (ES256 + claims)', async () => {
    verifier.forget(accessToken);
    await verifier.verify(accessToken);
  });
  await time('verify, cached (SHA-256 digest + LRU hit)', () => verifier.verify(accessToken));
  await time("grant lookup: storage.find('Grant', gid)", () => storage.find('Grant', gid));
  await time('user lookup: storage.findUserById(sub)', () => storage.findUserById(admin.id));
  await time('joined read: storage.findGrantAndUser', () => storage.findGrantAndUser(gid, admin.id));
  const cache = sekisho.gateCache;
  if (cache) await time('gate cache hit: findGrantAndUser', () => cache.findGrantAndUser(gid, admin.id));
  console.log(`gate cache: ${cache ? 'on' : 'off (SEKISHO_GATE_CACHE_SIZE=0)'}`);

  const body = {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'hello_world', arguments: {} },
  };
  const res = {
    statusCode: 200,
    setHeader() {},
    status() {
      return this;
    },
    json() {
      throw new Error('the gate refused a valid token');
    },
  };
  await time('whole gate middleware, cached token', async () => {
    const req = {
      headers: { authorization: `Bearer ${accessToken}` },
      originalUrl: '/mcp',
      body,
    } as never;
    await new Promise<void>((resolve, reject) =>
      sekisho.resource.gate(req, res as never, (error?: unknown) => (error ? reject(error) : resolve())),
    );
  });
} finally {
  await sekisho.close();
  rmSync(dataDir, { recursive: true, force: true });
}
