/**
 * Between listening and having every part built (the issuer follows the bound port, so the
 * authorization server is built after listen), a request gets a clear 503 "starting", never a hang.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { startSekisho } from '../../src/server.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { Storage } from '../../src/storage/types.ts';
import { freePort } from '../helpers/free-port.ts';

describe('start-up window', () => {
  it('answers 503 starting while the parts are built, then serves', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-starting-'));
    const real = openSqliteStorage({ dataDir });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Holding back the signing keys holds the authorization server's construction.
    const storage: Storage = Object.create(real, {
      listKeys: {
        value: async () => {
          await gate;
          return real.listKeys();
        },
      },
    });
    const port = await freePort();
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      SEKISHO_LOG_LEVEL: 'silent',
      SEKISHO_DATA_DIR: dataDir,
    });
    const started = startSekisho(config, { storage });
    try {
      let res: Response | undefined;
      for (let i = 0; i < 100 && !res; i++) {
        res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!res) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(res, 'the server never listened');
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.deepEqual(await res.json(), { status: 'starting' });
      release();
      const sekisho = await started;
      try {
        assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      } finally {
        await sekisho.close();
      }
    } finally {
      release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
