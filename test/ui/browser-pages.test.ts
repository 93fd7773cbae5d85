/**
 * The page fixes in a real browser (headless Chromium via playwright-core), where cookies, CSP,
 * redirects after form posts and focus behave as they do for a user:
 * - "Not you? Use another account" on consent signs out and comes back to the sign-in page of the
 *   same request; the other account finishes it and the app gets that account's token;
 * - the language switch (ui_locales first, then the user's choice, remembered) and the password
 *   field's focus after a wrong password;
 * - Japanese lines break between phrases (word-break: auto-phrase) rather than anywhere.
 * Skips loudly without Chromium on a laptop; CI=true makes a missing Chromium a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserUnavailable, launchBrowser, startCallbackServer } from '../helpers/browser.ts';
import { authorizeUrl, exchangeCode, pkce, registerClient } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const available = browserUnavailable() === undefined;

let srv: TestServer;
let browser: Browser;
let callback: Awaited<ReturnType<typeof startCallbackServer>>;

before(async () => {
  if (!available) return;
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  callback = await startCallbackServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await callback?.close();
  await srv?.close();
});

async function click(page: Page, selector: string): Promise<void> {
  const before = page.url();
  await Promise.all([
    page.waitForURL((url) => url.href !== before, { waitUntil: 'load', timeout: 15_000 }),
    page.click(selector),
  ]);
}

async function signInAs(page: Page, username: string, password: string): Promise<void> {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await click(page, 'button[form="login"]');
}

describe('the pages in Chromium', { skip: !available }, () => {
  it('Not you? signs out, returns to the sign-in page of the same request, and the other account finishes it', async () => {
    const client = await registerClient(srv.url, {
      client_name: 'Shared Laptop App',
      redirect_uris: [callback.url],
    });
    const { verifier, challenge } = pkce();
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    try {
      const url = authorizeUrl(srv.url, {
        clientId: client.client_id,
        challenge,
        redirectUri: callback.url,
        state: 'same-request',
        resource: `${srv.url}/mcp`,
      });
      await page.goto(url.href);
      await signInAs(page, 'demo', 'demo123');
      assert.match((await page.locator('.facts').textContent()) ?? '', /Demo User/);
      const firstConsent = page.url();

      await click(page, 'form.not-you button');
      assert.equal(await page.locator('form#login').count(), 1, 'back at the sign-in page');
      assert.match((await page.locator('.lead').textContent()) ?? '', /Shared Laptop App/);
      assert.notEqual(page.url(), firstConsent, 'a fresh interaction');
      const account = await context.newPage();
      await account.goto(`${srv.url}/account`);
      assert.equal(await account.locator('form#login').count(), 1, 'the account page sees nobody signed in');
      await account.close();

      await signInAs(page, 'inspector', 'inspector123');
      assert.match((await page.locator('.facts').textContent()) ?? '', /MCP Inspector User/);
      await click(page, 'button[form="consent"]');
      const landed = new URL(page.url());
      assert.equal(landed.origin + landed.pathname, callback.url);
      assert.equal(landed.searchParams.get('state'), 'same-request');
      const tokens = await exchangeCode(srv.url, {
        clientId: client.client_id,
        code: landed.searchParams.get('code')!,
        verifier,
        redirectUri: callback.url,
        resource: `${srv.url}/mcp`,
      });
      assert.equal(tokens.status, 200);
      const claims = JSON.parse(Buffer.from(tokens.body.access_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.sub, (await srv.sekisho.identity.findByUsername('inspector'))!.id);
      assert.deepEqual(violations, []);
    } finally {
      await context.close();
    }
  });

  it('ui_locales picks Japanese, the switch turns the same page English and is remembered; a wrong password focuses the password', async () => {
    const client = await registerClient(srv.url, {
      client_name: 'Acme Notes',
      redirect_uris: [callback.url],
    });
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    try {
      await page.goto(
        authorizeUrl(srv.url, {
          clientId: client.client_id,
          challenge: pkce().challenge,
          redirectUri: callback.url,
          extra: { ui_locales: 'ja' },
        }).href,
      );
      assert.equal(await page.getAttribute('html', 'lang'), 'ja');
      assert.equal(await page.locator('h1').textContent(), 'サインイン');
      const interaction = new URL(page.url()).pathname;
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');

      // Phrase-based line breaking is on for Japanese (Chromium ≥ 119 supports auto-phrase).
      const wordBreak = await page.locator('.lead').evaluate((e) => getComputedStyle(e).wordBreak);
      assert.equal(wordBreak, 'auto-phrase');

      await click(page, '.lang-switch a');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(new URL(page.url()).pathname, interaction, 'the same sign-in page');
      assert.equal(await page.locator('h1').textContent(), 'Sign in');

      await page.fill('#username', 'demo');
      await page.fill('#password', 'wrong');
      await click(page, 'button[form="login"]');
      assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice is remembered over ui_locales');
      assert.equal(await page.inputValue('#username'), 'demo');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');

      // The switch on a form post's answer goes back to the page, in the other language.
      await click(page, '.lang-switch a');
      assert.equal(await page.getAttribute('html', 'lang'), 'ja');
      assert.equal(new URL(page.url()).pathname, interaction);
    } finally {
      await context.close();
    }
  });
});
