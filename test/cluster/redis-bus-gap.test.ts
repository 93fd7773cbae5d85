/**
 * The Redis bus across an outage, as the gate's cache relies on it: `connected()` is false while the
 * subscriber is away (the cache then trusts entries 1 s), and when it is back a local `bus.resumed`
 * is delivered (the cache drops everything: events published meanwhile were lost) and events flow
 * again. A private redis-server on a free port, so stopping it disturbs nobody else.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Invalidation, InvalidationBus } from '../../src/cluster/invalidation-bus.ts';
import { createRedisBus } from '../../src/cluster/redis-bus.ts';
import { connectRedis } from '../../src/storage/redis/connection.ts';
import { freePort } from '../helpers/free-port.ts';

const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
const skip = (() => {
  if (existsSync(REDIS_SERVER)) return undefined;
  const reason = `redis-server not found at ${REDIS_SERVER}`;
  if (process.env.CI === 'true') throw new Error(`${reason} — required in CI`);
  console.warn(`SKIPPING Redis bus gap test: ${reason}`);
  return reason;
})();

let port: number;
let server: ChildProcess | undefined;
const connections: Redis[] = [];
const buses: InvalidationBus[] = [];

async function startRedis(): Promise<void> {
  server = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await until(
    () =>
      fetch(`http://127.0.0.1:${port}`).then(
        () => true,
        (e: { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED',
      ),
    'redis-server listening',
  );
}

function stopRedis(): Promise<void> {
  return new Promise((resolve) => {
    if (!server || server.exitCode !== null) return resolve();
    server.once('exit', () => resolve());
    server.kill('SIGKILL');
  });
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`not within 15 s: ${what}`);
}

async function openBus(): Promise<InvalidationBus> {
  const redis = await connectRedis({ url: `redis://127.0.0.1:${port}`, attempts: 3, retryDelayMs: 200 });
  connections.push(redis);
  const bus = await createRedisBus(redis, { prefix: 'gap:' });
  buses.push(bus);
  return bus;
}

before(async () => {
  if (skip) return;
  port = await freePort();
  await startRedis();
});
after(async () => {
  for (const bus of buses) await bus.close();
  for (const redis of connections) redis.disconnect();
  await stopRedis();
});

describe('Redis bus: a gap is reported, and its end announced', { skip }, () => {
  it('connected() false while Redis is away; bus.resumed when it is back; events flow again', async () => {
    const listener = await openBus();
    const sender = await openBus();
    const heard: Invalidation[] = [];
    listener.subscribe((event) => heard.push(event));
    assert.equal(listener.shared, true);
    assert.equal(listener.connected(), true);

    await sender.publish({ type: 'grant.revoked', grantId: 'before' });
    await until(() => heard.some((e) => e.type === 'grant.revoked'), 'an event before the outage');

    await stopRedis();
    await until(() => !listener.connected(), 'connected() turns false');
    assert.ok(!heard.some((e) => e.type === 'bus.resumed'), 'nothing resumed yet');

    await startRedis();
    await until(() => heard.some((e) => e.type === 'bus.resumed'), 'bus.resumed delivered locally');
    assert.equal(listener.connected(), true);

    heard.length = 0;
    await until(async () => {
      await sender.publish({ type: 'user.removed', userId: 'after' }).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
      return heard.some((e) => e.type === 'user.removed');
    }, 'events flow again after the reconnect');
  });
});
