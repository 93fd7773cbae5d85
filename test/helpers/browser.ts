/**
 * A real browser for the login and consent pages: headless Debian Chromium driven by playwright-core.
 * `authorizeInBrowser` opens the authorization URL a client produced, signs in when the login page
 * appears, answers the consent page, and returns the callback URL the authorization server redirected
 * to. The redirect lands on a real loopback callback server (`startCallbackServer`), as it does for a
 * desktop MCP host (RFC 8252 §7.3); Playwright's request interception does not see redirects.
 *
 * Chromium missing: tests skip loudly on a laptop, and fail under CI=true.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or undefined when they can. Throws under CI. */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const reason = `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`${reason} — required in CI`);
  console.warn(`SKIPPING browser tests: ${reason}`);
  return reason;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}

/** A loopback redirect target that just says "done" (the host reads the code from the URL). */
export async function startCallbackServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
    res.end('You can close this window.');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface BrowserAuthorization {
  readonly callback: URL;
  /** Which pages the user went through, in order ('login', 'consent'). */
  readonly pages: readonly ('login' | 'consent')[];
  /** Scope words the consent page listed as granted (the `ul.scopes` items), if it appeared. */
  readonly consentText: string | undefined;
}

/**
 * Drives one authorization request to its callback. `context` keeps cookies, so a second request in
 * the same context may skip the login page (the AS session) and go straight to consent.
 */
export async function authorizeInBrowser(
  context: BrowserContext,
  authorizationUrl: URL,
  redirectUrl: string,
  credentials: Credentials,
  decision: 'allow' | 'deny' = 'allow',
): Promise<BrowserAuthorization> {
  const page = await context.newPage();
  let callback: URL | undefined;
  const arrived = () => {
    if (page.url().startsWith(redirectUrl)) callback = new URL(page.url());
    return callback !== undefined;
  };
  try {
    await page.goto(authorizationUrl.href, { waitUntil: 'load' });
    const answered = await answerSignInPages(page, credentials, arrived, decision);
    if (!callback) throw new Error('the authorization server never redirected back');
    return { callback, ...answered };
  } finally {
    await page.close();
  }
}

/**
 * Answers our sign-in and consent pages in `page`, one after another, until `done()` says the browser
 * has left them (at most 8 pages). A second sign-in page means the password was refused.
 */
export async function answerSignInPages(
  page: Page,
  credentials: Credentials,
  done: () => boolean,
  decision: 'allow' | 'deny' = 'allow',
): Promise<Omit<BrowserAuthorization, 'callback'>> {
  const pages: ('login' | 'consent')[] = [];
  let consentText: string | undefined;
  for (let step = 0; step < 8 && !done(); step++) {
    if (await page.locator('form#login').count()) {
      if (pages.includes('login')) throw new Error(`login failed: ${await problem(page)}`);
      pages.push('login');
      await page.fill('#username', credentials.username);
      await page.fill('#password', credentials.password);
      await submit(page, 'button[form="login"]');
    } else if (await page.locator('form#consent').count()) {
      pages.push('consent');
      consentText = ((await page.locator('ul.scopes').first().textContent()) ?? '')
        .replace(/\s+/g, ' ')
        .trim();
      await submit(
        page,
        decision === 'allow' ? 'button[form="consent"]' : 'form:not(#consent) button.secondary',
      );
    } else {
      throw new Error(`unexpected page at ${page.url()}: ${await problem(page)}`);
    }
  }
  return { pages, consentText };
}

async function submit(page: Page, selector: string) {
  const before = page.url();
  await Promise.all([
    page.waitForURL((url) => url.href !== before, { waitUntil: 'load', timeout: 15_000 }).catch(() => {}),
    page.click(selector),
  ]);
}

async function problem(page: Page): Promise<string> {
  const text = await page
    .locator('body')
    .textContent()
    .catch(() => '');
  return (text ?? '').replace(/\s+/g, ' ').slice(0, 300);
}
