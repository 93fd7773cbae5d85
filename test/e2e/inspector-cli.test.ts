/**
 * Issue 9, with the real MCP Inspector 2.12 CLI (under Node 22) against plain demo mode (anonymous
 * access on, as `npm start`): a call of a signed-in tool starts OAuth (the CLI prints the URL a user
 * would open; Chromium signs in and consents) and the call then succeeds.
 *
 * Step-up: run ad hoc (a URL, no catalog `oauth` settings) the 2.12 CLI answers a 403
 * insufficient_scope by authorizing again with the scope it stored at first sign-in, not the
 * challenged one. The consent page adds the step-up the resource noted for this client moments ago
 * (`grants.pendingStepUp`), so the second consent is the one that reaches `admin_panel`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { authorizeInBrowser, browserUnavailable, launchBrowser } from '../helpers/browser.ts';
import { freePort } from '../helpers/free-port.ts';
import { type InspectorHome, inspectorHome, runInspectorCli } from '../helpers/inspector.ts';
import { node22 } from '../helpers/node22.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ADMIN = { username: 'admin', password: 'admin123' };
const skip = browserUnavailable();

let srv: TestServer;
let browser: Browser;
let context: BrowserContext;
let home: InspectorHome;
let node: string | undefined;

before(async () => {
  if (skip) return;
  node = await node22();
  if (!node) return;
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  browser = await launchBrowser();
  context = await browser.newContext();
  home = inspectorHome();
});
after(async () => {
  await context?.close();
  await browser?.close();
  await srv?.close();
  home?.remove();
});

const scopesOf = (url: URL) => (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean).sort();

describe('MCP Inspector 2.12 CLI (Node 22)', { skip, timeout: 180_000 }, () => {
  let callbackUrl: string;
  before(async () => {
    callbackUrl = `http://127.0.0.1:${await freePort()}/oauth/callback`;
  });
  const cli = (...args: string[]) =>
    runInspectorCli(node!, home, [srv.mcpUrl, '--callback-url', callbackUrl, '--format', 'json', ...args]);

  it('a signed-in tool starts OAuth; sign-in in the browser, then the call succeeds', async (t) => {
    if (!node) return t.skip('no Node 22');
    const run = cli('--method', 'tools/call', '--tool-name', 'user_profile');
    const url = await run.nextAuthorizationUrl();
    assert.equal(url.origin + url.pathname, `${srv.url}/oauth/authorize`);
    assert.deepEqual(scopesOf(url), ['mcp:data', 'mcp:tools', 'offline_access']);
    assert.equal(url.searchParams.get('resource'), srv.mcpUrl);
    const auth = await authorizeInBrowser(context, url, callbackUrl, ADMIN);
    assert.deepEqual(auth.pages, ['login', 'consent']);
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Username: admin/);
  });

  it('steps up to admin_panel: the CLI re-authorizes, the consent adds mcp:admin, the call succeeds', async (t) => {
    if (!node) return t.skip('no Node 22');
    // Signed in by the test above (same Inspector home): its stored token lacks mcp:admin.
    const run = cli(
      '--method',
      'tools/call',
      '--tool-name',
      'admin_panel',
      '--tool-arg',
      'action=list_tokens',
    );
    const url = await run.nextAuthorizationUrl();
    assert.ok(
      !scopesOf(url).includes('mcp:admin'),
      'the CLI asks again for what it stored, not the challenge',
    );
    const auth = await authorizeInBrowser(context, url, callbackUrl, ADMIN);
    assert.deepEqual(auth.pages, ['consent'], 'the sign-in session is reused');
    assert.match(auth.consentText ?? '', /admin/i, 'the consent page names the step-up');
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Admin Panel - list_tokens/);
  });
});
