/**
 * SIGKILL under mixed load: a real Sekisho process (`src/main.ts`) serves registrations, sign-ins
 * (register → login → consent → code exchange), refreshes and tools/calls from concurrent loops;
 * it is killed with SIGKILL mid-load and started again on the same data directory. Everything the
 * server acknowledged must be there: every client it answered 201 for, every grant behind a token it
 * issued, and the latest refresh token of every chain — which still refreshes and whose access
 * token still calls tools. The database passes `PRAGMA integrity_check`.
 *
 * A chain whose refresh was in flight at the kill is left out of the refresh check: the server may
 * have rotated its token without the answer reaching us, and presenting the old one later is then
 * (rightly) a replay.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { openSqliteStorage, sqliteFileFor } from '../../src/storage/sqlite/index.ts';
import { freePort } from '../helpers/free-port.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { refresh, registerClient, signIn } from '../helpers/oauth.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-sigkill-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startProcess(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      SEKISHO_DATA_DIR: dataDir,
      SEKISHO_LOG_LEVEL: 'warn',
      SEKISHO_DEMO: '1',
      SEKISHO_REGISTRATIONS_PER_HOUR: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s; stderr:\n${err}`)), 60_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (/MCP endpoint\s+http:\/\/localhost:\d+\/mcp/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before the banner; stderr:\n${err}`));
    });
  });
  return child;
}

interface Chain {
  readonly clientId: string;
  readonly grantId: string;
  refreshToken: string;
  accessToken: string;
  refreshes: number;
  /** A refresh of this chain was in flight when the process died. */
  busy: boolean;
}

const demo = { username: 'demo', password: 'demo123' };

describe('SIGKILL durability under mixed load', () => {
  it('keeps every acknowledged client, grant and latest refresh token; the database is intact', {
    timeout: 300_000,
  }, async () => {
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const first = await startProcess(port);

    const clients: string[] = [];
    const chains: Chain[] = [];
    let calls = 0;
    let dead = false;
    const ignoreDeath = (error: unknown) => {
      if (!dead) throw error;
    };
    const addChain = async () => {
      const { client, tokens } = await signIn(url, demo);
      if (tokens.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(tokens.body)}`);
      clients.push(client.client_id);
      chains.push({
        clientId: client.client_id,
        grantId: String(decodeJwt(tokens.body.access_token).gid),
        refreshToken: tokens.body.refresh_token,
        accessToken: tokens.body.access_token,
        refreshes: 0,
        busy: false,
      });
    };
    await addChain(); // something for the refresh and call loops from the start

    const loop = (step: () => Promise<void>) =>
      (async () => {
        while (!dead) await step().catch(ignoreDeath);
      })();
    const loops = [
      loop(async () => {
        const c = await registerClient(url);
        if (!dead) clients.push(c.client_id);
      }),
      loop(addChain),
      // Two refresh loops and at least four chains: at least two chains are idle at the kill.
      ...[0, 1].map((n) =>
        loop(async () => {
          const idle = chains.filter((c) => !c.busy);
          const chain = idle[(calls + n) % Math.max(1, idle.length)];
          // Nothing idle: wait on the clock (a loop of resolved awaits would starve all I/O).
          if (!chain) return void (await new Promise((r) => setTimeout(r, 10)));
          chain.busy = true;
          const r = await refresh(url, { clientId: chain.clientId, refreshToken: chain.refreshToken });
          if (r.status !== 200) throw new Error(`refresh failed: ${r.status} ${JSON.stringify(r.body)}`);
          chain.refreshToken = r.body.refresh_token;
          chain.accessToken = r.body.access_token;
          chain.refreshes++;
          chain.busy = false;
        }),
      ),
      ...[0, 1].map(() =>
        loop(async () => {
          const chain = chains[calls % chains.length]!;
          const r = await modernPost(
            `${url}/mcp`,
            'tools/call',
            { name: 'hello_world', arguments: { name: 'load' } },
            { headers: { authorization: `Bearer ${chain.accessToken}` } },
          );
          if (r.status !== 200) throw new Error(`tools/call failed: ${r.status} ${r.text.slice(0, 200)}`);
          calls++;
        }),
      ),
    ];

    // Run until every kind of work has been acknowledged several times, then kill mid-flight.
    const started = Date.now();
    while (
      chains.length < 4 ||
      clients.length < 12 ||
      calls < 20 ||
      chains.reduce((n, c) => n + c.refreshes, 0) < 20
    ) {
      if (Date.now() - started > 120_000) throw new Error('the load never got going');
      await new Promise((r) => setTimeout(r, 50));
    }
    dead = true;
    first.kill('SIGKILL');
    await Promise.all(loops);
    const acknowledged = { clients: [...clients], chains: chains.map((c) => ({ ...c })) };

    // The database as the killed process left it.
    const storage = openSqliteStorage({ dataDir });
    try {
      assert.deepEqual(storage.db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
      for (const id of acknowledged.clients) assert.ok(await storage.find('Client', id), `client ${id} lost`);
      for (const c of acknowledged.chains)
        assert.ok(await storage.find('Grant', c.grantId), `grant ${c.grantId} lost`);
    } finally {
      await storage.close();
    }
    assert.ok(sqliteFileFor(dataDir));

    await startProcess(port);
    await fetch(`${url}/healthz`).catch(() => undefined); // spend a keep-alive socket to the dead process
    const settled = acknowledged.chains.filter((c) => !c.busy);
    assert.ok(settled.length >= 2, 'too few chains were idle at the kill to check');
    for (const chain of settled) {
      const r = await refresh(url, { clientId: chain.clientId, refreshToken: chain.refreshToken });
      assert.equal(
        r.status,
        200,
        `latest refresh token of grant ${chain.grantId} (after ${chain.refreshes} refreshes): ${JSON.stringify(r.body)}`,
      );
      const call = await modernPost(
        `${url}/mcp`,
        'tools/call',
        { name: 'hello_world', arguments: { name: 'after the kill' } },
        { headers: { authorization: `Bearer ${r.body.access_token}` } },
      );
      assert.equal(call.status, 200, call.text);
      assert.match(call.text, /after the kill/);
    }
    console.log(
      `acknowledged before SIGKILL: ${acknowledged.clients.length} clients, ${acknowledged.chains.length} grants, ` +
        `${acknowledged.chains.reduce((n, c) => n + c.refreshes, 0)} refreshes, ${calls} tools/calls; ` +
        `${settled.length} chains refreshed after restart, ${acknowledged.chains.length - settled.length} were mid-refresh`,
    );
  });
});
