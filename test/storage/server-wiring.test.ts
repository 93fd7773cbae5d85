/** The composition root opens storage under the data dir, reports it in /readyz and closes it on shutdown. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { banner } from '../../src/banner.ts';
import { loadConfig } from '../../src/config/load.ts';
import { startSekisho } from '../../src/server.ts';

const root = mkdtempSync(join(tmpdir(), 'sekisho-wiring-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('storage in the composition root', () => {
  it('opens <dataDir>/sekisho.db, is ready while open and releases it on close', async () => {
    const dataDir = join(root, 'data');
    const sekisho = await startSekisho(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', SEKISHO_LOG_LEVEL: 'silent', SEKISHO_DATA_DIR: dataDir }),
    );
    let closed = false;
    try {
      assert.ok(existsSync(join(dataDir, 'sekisho.db')));
      const res = await fetch(`${sekisho.url}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ready', failed: [] });
      await sekisho.close();
      closed = true;
      await assert.rejects(sekisho.storage.ping());
    } finally {
      if (!closed) await sekisho.close();
    }
  });

  it('reports storage as failed in /readyz when it stops answering', async () => {
    const sekisho = await startSekisho(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        SEKISHO_LOG_LEVEL: 'silent',
        SEKISHO_DATA_DIR: join(root, 'b'),
      }),
    );
    try {
      await sekisho.storage.close();
      const res = await fetch(`${sekisho.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { status: 'unavailable', failed: ['storage'] });
    } finally {
      await sekisho.close();
    }
  });

  it('seeds the demo users only in demo mode, idempotently across restarts', async () => {
    const env = { PORT: '0', HOST: '127.0.0.1', SEKISHO_LOG_LEVEL: 'silent' };
    const plain = await startSekisho(loadConfig({ ...env, SEKISHO_DATA_DIR: join(root, 'plain') }));
    try {
      assert.deepEqual(await plain.identity.listUsers(), []);
    } finally {
      await plain.close();
    }
    const demoDir = join(root, 'demo');
    for (let round = 0; round < 2; round++) {
      const demo = await startSekisho(loadConfig({ ...env, SEKISHO_DATA_DIR: demoDir, SEKISHO_DEMO: '1' }));
      try {
        assert.deepEqual(
          (await demo.identity.listUsers()).map((u) => [u.username, u.role]),
          [
            ['admin', 'admin'],
            ['demo', 'user'],
            ['inspector', 'admin'],
          ],
        );
      } finally {
        await demo.close();
      }
    }
    assert.match(
      banner(loadConfig({ SEKISHO_DEMO: '1' })),
      /demo only — never use in production[\s\S]*inspector \/ inspector123/,
    );
    assert.doesNotMatch(banner(loadConfig({})), /inspector123/);
  });

  it('rejects a negative sweep interval as a config error', () => {
    assert.throws(
      () => loadConfig({ SEKISHO_SWEEP_INTERVAL_SECONDS: '-1' }),
      /SEKISHO_SWEEP_INTERVAL_SECONDS/,
    );
  });
});
