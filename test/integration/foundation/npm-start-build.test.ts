/**
 * What `npm start` runs: the build (`npm run build`: tsc → dist/, then the one-file bundle
 * `dist/sekisho.mjs`) started with the node arguments of package.json's start script. The bundle must
 * run as ESM with nothing but node_modules' externals beside it, and the built server must start in
 * demo mode, answer an MCP call and exit 0 on SIGTERM — the same promises the tsx entry keeps. The
 * module-by-module tsc output (`node dist/main.js`, what operators ran before the bundle) is checked
 * to start as well.
 *
 * Both builds also sign a user in through the real pages, call a signed-in tool with the token and
 * refresh it: oidc-provider names its models by their class names (`constructor.name`: the adapter's
 * model, the token TTLs, `kind`), so a bundle that drops or renames class names (esbuild's syntax
 * minifier did) starts and answers anonymous calls but mints access tokens with no `exp` that its own
 * resource server refuses.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { legacyPost, modernPost } from '../../helpers/mcp-http.ts';
import { npmStartNodeArgs } from '../../helpers/npm-start.ts';
import { refresh, signIn } from '../../helpers/oauth.ts';

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
  await signsInAndRefreshes(mcpUrl);

  proc.kill('SIGTERM');
  assert.equal(await exited, 0);
}

/** The real OAuth flow against the built server: sign-in, a signed-in tool, a refresh, the tool again. */
async function signsInAndRefreshes(mcpUrl: string): Promise<void> {
  const baseUrl = new URL(mcpUrl).origin;
  const { client, tokens } = await signIn(baseUrl, { username: 'demo', password: 'demo123' });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const accessToken: string = tokens.body.access_token;
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as {
    exp?: unknown;
    aud?: unknown;
  };
  assert.equal(typeof claims.exp, 'number', 'the access token carries exp');
  assert.equal(claims.aud, mcpUrl, 'the access token is bound to the MCP endpoint');
  const callProfile = (token: string) =>
    modernPost(
      mcpUrl,
      'tools/call',
      { name: 'user_profile', arguments: {} },
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
  const first = await callProfile(accessToken);
  assert.equal(first.status, 200, first.text);
  assert.match(first.text, /demo@example\.com/);
  assert.ok(tokens.body.refresh_token, 'a refresh token was issued');
  const refreshed = await refresh(baseUrl, {
    clientId: client.client_id,
    refreshToken: tokens.body.refresh_token,
  });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  const second = await callProfile(refreshed.body.access_token);
  assert.equal(second.status, 200, second.text);
  assert.match(second.text, /demo@example\.com/);
}
