/**
 * Issue 9, with the real MCP Inspector 2.12 web UI (under Node 22) driven in Chromium against plain
 * demo mode (anonymous access on, as `npm start`), the way its README tells a user to:
 *
 * - connect, call a tool that needs an account: the Inspector follows our 401 to the sign-in page in
 *   the same tab, comes back, and the retried call succeeds;
 * - call `admin_panel` as an administrator: our 403 insufficient_scope makes the Inspector offer a
 *   step-up, the consent page asks for `mcp:admin` only, and the retried call succeeds;
 * - the seed's path: `quick_login` anonymously, paste the token as an `Authorization` header, and the
 *   signed-in tools work without any OAuth round trip.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { answerSignInPages, browserUnavailable, launchBrowser } from '../helpers/browser.ts';
import { freePort } from '../helpers/free-port.ts';
import {
  type InspectorHome,
  type InspectorWeb,
  inspectorHome,
  startInspectorWeb,
} from '../helpers/inspector.ts';
import { node22 } from '../helpers/node22.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const INSPECTOR = { username: 'inspector', password: 'inspector123' };
const skip = browserUnavailable();

let srv: TestServer;
let browser: Browser;
let node: string | undefined;

before(async () => {
  if (skip) return;
  node = await node22();
  if (!node) return;
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

/** One Inspector installation and one browser profile, for one test. */
async function openInspector(args: (srv: TestServer) => string[], catalog?: object) {
  const home: InspectorHome = inspectorHome();
  if (catalog) writeFileSync(home.env.MCP_CATALOG_PATH!, JSON.stringify(catalog));
  const web: InspectorWeb = await startInspectorWeb(node!, home, await freePort(), args(srv));
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(web.url.href);
  return {
    page,
    web,
    async close() {
      await context.close();
      await web.close();
      home.remove();
    },
  };
}

/** The one server card's switch (Mantine draws its track over the input, hence force). */
async function connect(page: Page) {
  await page.getByRole('switch').last().click({ force: true });
  await page.getByText('Connected', { exact: true }).waitFor({ timeout: 30_000 });
  await page.getByText('Tools', { exact: true }).first().click();
}

async function callTool(page: Page, name: string, fields: Record<string, string> = {}) {
  await page.getByText(name, { exact: true }).first().click();
  for (const [label, value] of Object.entries(fields)) {
    await page.getByRole('textbox', { name: label, exact: true }).fill(value);
  }
  await page.getByRole('button', { name: 'Execute Tool' }).click();
}

/**
 * Our sign-in and consent pages, in the Inspector's own tab, until the browser is back at the
 * Inspector. Returns which pages appeared and the scopes the consent page listed.
 */
async function passSekishoPages(page: Page, inspectorOrigin: string) {
  await page.waitForURL((url) => url.href.startsWith(srv.url), { timeout: 30_000 });
  await page.waitForLoadState('load');
  const answered = await answerSignInPages(page, INSPECTOR, () => !page.url().startsWith(srv.url));
  await page.waitForURL((url) => url.origin === inspectorOrigin, { timeout: 30_000 });
  return { pages: answered.pages, consent: answered.consentText ?? '' };
}

const results = async (page: Page) => (await page.locator('body').textContent()) ?? '';

describe('MCP Inspector 2.12 web UI (Node 22, Chromium)', { skip, timeout: 240_000 }, () => {
  it('signs in on the first signed-in call, then steps up to admin_panel, in the same tab', async (t) => {
    if (!node) return t.skip('no Node 22');
    const ui = await openInspector((s) => ['--transport', 'http', '--server-url', s.mcpUrl]);
    t.after(() => ui.close());
    const { page, web } = ui;
    await connect(page);
    // Anonymous: every tool is listed, the signed-in ones say that calling them signs you in.
    await page.getByText('admin_panel', { exact: true }).waitFor();

    await callTool(page, 'user_profile');
    const first = await passSekishoPages(page, web.origin);
    assert.deepEqual(first.pages, ['login', 'consent']);
    assert.doesNotMatch(
      first.consent,
      /mcp:admin|administ/i,
      'first sign-in asks only what user_profile needs',
    );
    await page.getByText('Retry your action').waitFor({ timeout: 30_000 });
    await callTool(page, 'user_profile');
    await page.getByText('MCP Inspector User').first().waitFor({ timeout: 30_000 });

    await callTool(page, 'admin_panel');
    await page.getByText('Additional permissions required').waitFor({ timeout: 30_000 });
    assert.match(await results(page), /mcp:admin/);
    await page.getByRole('button', { name: 'Authorize' }).click();
    const stepUp = await passSekishoPages(page, web.origin);
    assert.deepEqual(stepUp.pages, ['consent'], 'the sign-in session is reused: no second password');
    await page.getByText('Retry your action').waitFor({ timeout: 30_000 });
    await callTool(page, 'admin_panel');
    await page.getByText(/Admin Panel - list_tokens/).waitFor({ timeout: 30_000 });
    assert.match(await results(page), /inspector via MCP Inspector \[[^\]]*mcp:admin/);
  });

  it('quick_login anonymously, paste the token as a header: signed-in tools work, no OAuth', async (t) => {
    if (!node) return t.skip('no Node 22');
    // An empty catalog, so the one card on the page is the server this test adds.
    const ui = await openInspector(() => [], { mcpServers: {} });
    t.after(() => ui.close());
    const { page, web } = ui;
    // The catalog the README describes: Add Servers → + Add manually → Streamable HTTP.
    await page.getByRole('button', { name: 'Add Servers' }).click();
    await page.getByText('+ Add manually').click();
    await page.getByPlaceholder('my-server').fill('sekisho');
    await page.locator('input[aria-haspopup]').first().click();
    await page.getByRole('option', { name: 'streamable-http' }).click();
    await page.getByPlaceholder('https://example.com/mcp').fill(srv.mcpUrl);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await connect(page);

    await callTool(page, 'quick_login', { username: 'inspector', password: 'inspector123' });
    await page
      .getByText(/Access Token: /)
      .first()
      .waitFor({ timeout: 30_000 });
    const token = /Access Token: (\S+)/.exec(await results(page))?.[1];
    assert.ok(token, 'quick_login shows a token');

    await page.getByRole('button', { name: 'Disconnect from server' }).click();
    await page.getByText('Disconnected', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Settings' }).last().click();
    await page.getByText('Custom Headers', { exact: true }).click();
    await page.getByRole('button', { name: '+ Add Header' }).click();
    await page.getByPlaceholder('Key').last().fill('Authorization');
    await page.getByPlaceholder('Value').last().fill(`Bearer ${token}`);
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('dialog').waitFor({ state: 'hidden' });

    const navigations: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    await connect(page);
    await callTool(page, 'user_profile');
    await page.getByText('MCP Inspector User').first().waitFor({ timeout: 30_000 });
    assert.deepEqual(
      navigations.filter((u) => !u.startsWith(web.origin)),
      [],
      'a pasted token needs no sign-in page',
    );
  });
});
