/**
 * `npm run screenshots`: every page a user meets — sign-in, sign-in after a wrong password, consent,
 * an error, the account page, the admin console's sections — in English and Japanese, on a desktop (1280×800) and a phone
 * (390×844), written to docs/screenshots/ as PNG. A real Sekisho in demo mode on a loopback port and
 * headless Chromium (playwright-core, /usr/bin/chromium or CHROMIUM_PATH); Japanese glyphs need a
 * Japanese font (Debian: fonts-ipafont-gothic). The pages are full-length, so buttons below the fold
 * are in the picture too.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, startCallbackServer } from '../test/helpers/browser.ts';
import { startForeignProvider } from '../test/helpers/foreign-provider.ts';
import { authorizeUrl, pkce, registerClient, signIn } from '../test/helpers/oauth.ts';
import { startTestServer } from '../test/helpers/server.ts';

const OUT = join(import.meta.dirname, '..', 'docs', 'screenshots');
const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  mobile: { width: 390, height: 844 },
} as const;
const LOCALES = { en: 'en-US', ja: 'ja-JP' } as const;
const demo = { username: 'demo', password: 'demo123' };

mkdirSync(OUT, { recursive: true });
const srv = await startTestServer({ SEKISHO_DEMO: '1' });
const callback = await startCallbackServer();
const browser = await launchBrowser();
const written: string[] = [];
try {
  // Three apps already authorized, two of them registrations of the same MCP Inspector.
  for (const [name, redirect] of [
    ['MCP Inspector', 'http://localhost:6274/oauth/callback'],
    ['MCP Inspector', 'http://localhost:6274/oauth/callback/debug'],
    ['Claude Code', 'http://localhost:54545/callback'],
  ] as const) {
    await signIn(srv.url, demo, {
      client: await registerClient(srv.url, { client_name: name, redirect_uris: [redirect] }),
    });
  }
  const acme = await registerClient(srv.url, {
    client_name: 'Acme Notes',
    client_uri: 'https://notes.acme.example/',
    redirect_uris: [callback.url],
  });

  for (const [lang, locale] of Object.entries(LOCALES)) {
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ locale, viewport, deviceScaleFactor: 1 });
      try {
        await capture(context, `${lang}-${device}`, acme.client_id);
      } finally {
        await context.close();
      }
    }
  }
  await captureUpstream();
  console.log(`wrote ${written.length} screenshots to docs/screenshots/`);
} finally {
  await browser.close();
  await callback.close();
  await srv.close();
}

async function capture(context: BrowserContext, suffix: string, clientId: string): Promise<void> {
  const page = await context.newPage();
  const shot = async (name: string) => {
    const file = join(OUT, `${name}-${suffix}.png`);
    await page.screenshot({ path: file, fullPage: true });
    written.push(file);
  };
  const url = authorizeUrl(srv.url, {
    clientId,
    redirectUri: callback.url,
    challenge: pkce().challenge,
    state: 'screenshot',
    resource: `${srv.url}/mcp`,
  });
  await page.goto(url.href);
  await shot('login');
  await page.fill('#username', demo.username);
  await page.fill('#password', 'not-the-password');
  await submit(page, 'button[form="login"]');
  await shot('login-failed');
  await page.fill('#password', demo.password);
  await submit(page, 'button[form="login"]');
  await shot('consent');
  await submit(page, 'button[form="consent"]');
  await page.goto(`${srv.url}/account`);
  await shot('account');
  // The admin console, as the demo admin (signed in on the account page, which sends them on).
  await page.context().clearCookies();
  await page.goto(`${srv.url}/admin`);
  await page.fill('#username', 'admin');
  await page.fill('#password', 'admin123');
  await submit(page, 'button[type="submit"]');
  await shot('admin-users');
  for (const section of ['clients', 'grants', 'keys', 'audit'] as const) {
    await page.goto(`${srv.url}/admin/${section}`);
    await shot(`admin-${section}`);
  }
  await page.goto(
    authorizeUrl(srv.url, { clientId: 'unknown-app', challenge: pkce().challenge, state: 'x' }).href,
  );
  await shot('error');
  await page.close();
}

/** The sign-in page of a server with an upstream provider: "Sign in with Acme SSO" above the form. */
async function captureUpstream(): Promise<void> {
  const idp = await startForeignProvider();
  const upstream = await startTestServer({
    SEKISHO_UPSTREAM_ISSUER: idp.issuer,
    SEKISHO_UPSTREAM_CLIENT_ID: 'sekisho',
    SEKISHO_UPSTREAM_CLIENT_SECRET: 'screenshot-secret',
    SEKISHO_UPSTREAM_NAME: 'Acme SSO',
  });
  try {
    const app = await registerClient(upstream.url, {
      client_name: 'Acme Notes',
      redirect_uris: [callback.url],
    });
    for (const [lang, locale] of Object.entries(LOCALES)) {
      for (const [device, viewport] of Object.entries(VIEWPORTS)) {
        const context = await browser.newContext({ locale, viewport, deviceScaleFactor: 1 });
        try {
          const page = await context.newPage();
          const url = authorizeUrl(upstream.url, {
            clientId: app.client_id,
            redirectUri: callback.url,
            challenge: pkce().challenge,
            resource: `${upstream.url}/mcp`,
          });
          await page.goto(url.href);
          const file = join(OUT, `login-upstream-${lang}-${device}.png`);
          await page.screenshot({ path: file, fullPage: true });
          written.push(file);
        } finally {
          await context.close();
        }
      }
    }
  } finally {
    await upstream.close();
    await idp.close();
  }
}

async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([
    page.waitForLoadState('load'),
    page.waitForEvent('framenavigated'),
    page.click(selector),
  ]);
  await page.waitForLoadState('load');
}
