/**
 * What `npm start` runs: the build (`npm run build`: tsc → dist/, then the one-file bundle
 * `dist/sekisho.mjs`) started with the node arguments of package.json's start script. The bundle must
 * run as ESM with nothing but node_modules' externals beside it, and the built server must start in
 * demo mode, answer an MCP call and exit 0 on SIGTERM — the same promises the tsx entry keeps. The
 * module-by-module tsc output (`node dist/main.js`, what operators ran before the bundle) is checked
 * to start as well.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { legacyPost } from '../../helpers/mcp-http.ts';
import { npmStartNodeArgs } from '../../helpers/npm-start.ts';

let child: ChildProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-built-'));
after(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (compiled build)', () => {
  it('builds, serves /mcp in demo mode and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    const built = spawnSync('npm', ['run', 'build'], { encoding: 'utf8' });
    assert.equal(built.status, 0, `build failed:\n${built.stdout}${built.stderr}`);
    const args = npmStartNodeArgs();
    assert.ok(existsSync(args.at(-1)!), `the start script's entry ${args.at(-1)} was built`);
    await servesAndStops(args);
  });

  it('the module-by-module build (node dist/main.js) starts too', { timeout: 60_000 }, async () => {
    assert.ok(existsSync('dist/main.js'), 'built by the test above');
    await servesAndStops(['dist/main.js']);
  });
});

async function servesAndStops(nodeArgs: string[]): Promise<void> {
  const proc = spawn(process.execPath, nodeArgs, {
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
}
