/**
 * The authorization-code flow once in a real browser (headless Chromium via playwright-core): the
 * pages render and submit under their CSP (no inline script or style, form-action including the
 * redirect after the post), cookies work, and the app gets a code it can exchange.
 * Skips loudly without Chromium on a laptop; CI=true makes a missing Chromium a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserUnavailable, launchBrowser, startCallbackServer } from '../helpers/browser.ts';
import { authorizeUrl, exchangeCode, pkce, registerClient } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const available = browserUnavailable() === undefined;

let srv: TestServer;
let browser: Browser;
let callback: Awaited<ReturnType<typeof startCallbackServer>>;
let callbackUrl: string;

before(async () => {
  if (!available) return;
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  callback = await startCallbackServer();
  callbackUrl = callback.url;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await callback?.close();
  await srv?.close();
});

describe('authorization code flow in Chromium', { skip: !available }, () => {
  it('signs in, consents and lands on the client callback with a working code', async () => {
    const client = await registerClient(srv.url, {
      client_name: 'Browser test',
      redirect_uris: [callbackUrl],
    });
    const { verifier, challenge } = pkce();
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    try {
      await page.goto(
        authorizeUrl(srv.url, {
          clientId: client.client_id,
          challenge,
          redirectUri: callbackUrl,
          scope: 'mcp:tools mcp:data',
          state: 'browser-state',
        }).href,
      );
      assert.equal(await page.locator('h1').textContent(), 'Sign in');
      // The stylesheet applied (CSP style-src 'self'): the primary button is not the default grey.
      const bg = await page.locator('button.primary').evaluate((b) => getComputedStyle(b).backgroundColor);
      assert.notEqual(bg, 'rgb(239, 239, 239)');
      await page.fill('#username', 'demo');
      await page.fill('#password', 'demo123');
      await Promise.all([page.waitForURL(/\/interaction\//), page.click('button.primary')]);
      assert.equal(await page.locator('h1').textContent(), 'Allow access?');
      await page.check('input[name=remember]');
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(callbackUrl)),
        page.click('button.primary'),
      ]);
      const landed = new URL(page.url());
      assert.equal(landed.searchParams.get('state'), 'browser-state');
      assert.equal(landed.searchParams.get('iss'), srv.url);
      const tokens = await exchangeCode(srv.url, {
        clientId: client.client_id,
        code: landed.searchParams.get('code')!,
        verifier,
        redirectUri: callbackUrl,
      });
      assert.equal(tokens.status, 200);
      assert.equal(tokens.body.scope, 'mcp:tools mcp:data');

      // Remembered: the next authorization goes straight back to the client.
      const next = pkce();
      await page.goto(
        authorizeUrl(srv.url, {
          clientId: client.client_id,
          challenge: next.challenge,
          redirectUri: callbackUrl,
        }).href,
      );
      await page.waitForURL((u) => u.href.startsWith(callbackUrl));
      assert.ok(new URL(page.url()).searchParams.get('code'));
      assert.deepEqual(violations, []);
    } finally {
      await context.close();
    }
  });
});
