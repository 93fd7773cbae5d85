/**
 * What `npm start` runs: the compiled build (`npm run build` → dist/, `node dist/main.js`). The build
 * must emit runnable ESM (relative `.ts` imports rewritten), and the compiled server must start in
 * demo mode, answer an MCP call and exit 0 on SIGTERM — the same promises the tsx entry keeps.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { legacyPost } from '../../helpers/mcp-http.ts';

let child: ChildProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-built-'));
after(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (compiled build)', () => {
  it('builds, serves /mcp in demo mode and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
    const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
    assert.equal(built.status, 0, `build failed:\n${built.stdout}${built.stderr}`);

    const proc = spawn(process.execPath, ['dist/main.js'], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        SEKISHO_DEMO: '1',
        SEKISHO_DATA_DIR: dataDir,
        SEKISHO_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const deadline = Date.now() + 30_000;
    let mcpUrl: string | undefined;
    while (!mcpUrl && Date.now() < deadline && proc.exitCode === null) {
      mcpUrl = /MCP endpoint\s+(http:\/\/\S+\/mcp)/.exec(out)?.[1];
      if (!mcpUrl) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(mcpUrl, `no banner with the MCP URL:\n${out}`);
    assert.match(out, /demo only/i, 'the banner marks the demo accounts');

    // A 2025-era client: initialize opens a session, the call goes inside it (legacyPost does both).
    const res = await legacyPost(
      mcpUrl,
      { id: 1, method: 'tools/call', params: { name: 'hello_world', arguments: { name: 'Build' } } },
      { headers: { 'mcp-protocol-version': '2025-06-18' } },
    );
    assert.equal(res.status, 200);
    assert.match(res.text, /Hello, Build!/);

    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
