/**
 * Issue 14, part 2: the admin console in Chromium. An administrator signs in on the account page and
 * is sent on to /admin; adds a user, changes a role, disables and enables, resets a password (the
 * user's app loses access), revokes a grant, removes an app, rotates the signing key and filters the
 * audit log — each action shows its notice and leaves its audit records. A form whose CSRF token was
 * tampered with is refused (403) and changes nothing; a signed-in user without the admin role gets
 * 403. The pages speak Japanese when asked, and no CSP violation is reported.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AuditRecord } from '../../src/storage/types.ts';
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts';
import { refresh, registerClient, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const available = browserUnavailable() === undefined;

let srv: TestServer;
let browser: Browser;

before(async () => {
  if (!available) return;
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

async function navigate(page: Page, run: () => Promise<unknown>): Promise<void> {
  await Promise.all([page.waitForEvent('framenavigated', { timeout: 20_000 }), run()]);
  await page.waitForLoadState('load');
}

/** A browser context that reports CSP violations and script errors into `problems`. */
async function context(locale = 'en-US'): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  const ctx = await browser.newContext({ locale });
  const page = await ctx.newPage();
  const problems: string[] = [];
  // Refusals answer 4xx on purpose (Chromium logs those as failed loads); CSP and script errors count.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return { ctx, page, problems };
}

async function signInToConsole(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${srv.url}/admin`);
  assert.match(page.url(), /\/account\?next=admin$/, 'not signed in: sent to the account sign-in');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await navigate(page, () => page.click('button[type="submit"]'));
}

async function audit(type: string, where: (r: AuditRecord) => boolean): Promise<AuditRecord> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await srv.sekisho.storage.listAudit({ types: [type] })).find(where);
    if (found) return found;
    assert.ok(Date.now() < deadline, `no ${type} record`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The row of a table whose first cell shows `text`. */
const row = (page: Page, text: string) => page.locator('table.admin tbody tr', { hasText: text }).first();

describe('admin console in Chromium', { skip: !available }, () => {
  it('an admin manages users: add, change role, disable, enable, reset password (the app loses access)', async () => {
    const { ctx, page, problems } = await context();
    try {
      await signInToConsole(page, 'admin', 'admin123');
      assert.match(page.url(), /\/admin\/users$/);
      assert.equal(await page.locator('h1').textContent(), 'Administration · Users');
      const adminId = (await srv.sekisho.identity.findByUsername('admin'))!.id;

      await page.fill('#new-username', 'erin');
      await page.fill('#new-name', 'Erin Example');
      await page.selectOption('#new-role', 'user');
      await page.fill('#new-password', 'erin-correct-horse-1');
      await navigate(page, () => page.click('form.admin-form button[type="submit"]'));
      assert.match(page.url(), /\/admin\/users\?done=user_added$/);
      assert.match((await page.locator('.notice.ok').textContent()) ?? '', /user was added/);
      const created = await audit('user.created', (r) => r.details.username === 'erin');
      assert.deepEqual(created.actor, { kind: 'admin', id: adminId, name: 'admin' });
      assert.equal(created.ip, '127.0.0.1');
      assert.ok(created.userAgent?.includes('Chrome'), 'the browser’s user agent');

      // The same username again: refused with the reason, nothing added.
      await page.fill('#new-username', 'erin');
      await page.fill('#new-password', 'erin-correct-horse-1');
      await navigate(page, () => page.click('form.admin-form button[type="submit"]'));
      assert.match((await page.locator('.notice.error').textContent()) ?? '', /already exists/);
      await audit('admin.action', (r) => r.details.reason === 'duplicate_username');

      const erin = row(page, 'erin');
      await erin.locator('select[name="role"]').selectOption('admin');
      await navigate(page, () => erin.locator('form[action$="/users/role"] button').click());
      assert.match(page.url(), /done=role_changed/);
      assert.equal((await srv.sekisho.identity.findByUsername('erin'))?.role, 'admin');
      await audit('user.role_changed', (r) => r.details.username === 'erin' && r.actor.id === adminId);

      // erin's app holds a grant; disabling ends it.
      const app = await signIn(srv.url, { username: 'erin', password: 'erin-correct-horse-1' });
      await navigate(page, () => row(page, 'erin').locator('form[action$="/users/disable"] button').click());
      assert.match(page.url(), /done=user_disabled/);
      assert.match((await row(page, 'erin').textContent()) ?? '', /Disabled/);
      assert.equal(
        (
          await refresh(srv.url, {
            clientId: app.client.client_id,
            refreshToken: app.tokens.body.refresh_token,
          })
        ).status,
        400,
        'the disabled user’s app lost access',
      );
      await audit('user.changed', (r) => r.details.username === 'erin' && r.details.disabled === true);
      await navigate(page, () => row(page, 'erin').locator('form[action$="/users/disable"] button').click());
      assert.match(page.url(), /done=user_enabled/);

      const again = await signIn(srv.url, { username: 'erin', password: 'erin-correct-horse-1' });
      await row(page, 'erin').locator('input[name="password"]').fill('erin-new-horse-22');
      await navigate(page, () => row(page, 'erin').locator('form[action$="/users/password"] button').click());
      assert.match(page.url(), /done=password_reset/);
      assert.equal(
        (
          await refresh(srv.url, {
            clientId: again.client.client_id,
            refreshToken: again.tokens.body.refresh_token,
          })
        ).status,
        400,
        'a reset password revokes the user’s grants',
      );
      const reset = await audit('user.password_changed', (r) => r.details.username === 'erin');
      assert.equal(reset.actor.id, adminId);
      await audit(
        'grant.revoked',
        (r) => r.clientId === again.client.client_id && r.details.because === 'password_changed',
      );

      // Not on yourself: the admin's own row refuses a role change.
      const self = row(page, '(you)');
      await self.locator('select[name="role"]').selectOption('user');
      await navigate(page, () => self.locator('form[action$="/users/role"] button').click());
      assert.equal(await page.locator('.notice.error').count(), 1);
      assert.equal((await srv.sekisho.identity.findByUsername('admin'))?.role, 'admin');
      assert.deepEqual(problems, [], 'no CSP violations or script errors');
    } finally {
      await ctx.close();
    }
  });

  it('an admin revokes a grant, removes an app, rotates the key and filters the audit log', async () => {
    const { ctx, page, problems } = await context();
    try {
      const kept = await signIn(
        srv.url,
        { username: 'demo', password: 'demo123' },
        {
          client: await registerClient(srv.url, { client_name: 'Grant To Revoke' }),
        },
      );
      const doomed = await registerClient(srv.url, { client_name: 'App To Remove' });
      await signIn(srv.url, { username: 'demo', password: 'demo123' }, { client: doomed });
      await signInToConsole(page, 'admin', 'admin123');

      await page.goto(`${srv.url}/admin/grants?user=demo`);
      const grantRow = row(page, 'Grant To Revoke');
      await navigate(page, () => grantRow.locator('form[action$="/grants/revoke"] button').click());
      assert.match(page.url(), /\/admin\/grants\?done=grant_revoked$/);
      assert.equal(
        (
          await refresh(srv.url, {
            clientId: kept.client.client_id,
            refreshToken: kept.tokens.body.refresh_token,
          })
        ).status,
        400,
      );
      const revoked = await audit('grant.revoked', (r) => r.clientId === kept.client.client_id);
      assert.equal(revoked.details.by, 'admin_console');

      await page.goto(`${srv.url}/admin/clients`);
      const appRow = row(page, 'App To Remove');
      assert.match((await appRow.textContent()) ?? '', /Self-registered/);
      await navigate(page, () => appRow.locator('form[action$="/clients/remove"] button').click());
      assert.match(page.url(), /done=client_removed/);
      assert.equal(await srv.sekisho.storage.find('Client', doomed.client_id), undefined);
      await audit(
        'client.removed',
        (r) => r.clientId === doomed.client_id && r.details.by === 'admin_console',
      );

      await page.goto(`${srv.url}/admin/keys`);
      const before = (await srv.sekisho.storage.listKeys()).find((k) => k.rotatedAt === undefined)!.kid;
      await navigate(page, () => page.click('form[action$="/keys/rotate"] button'));
      assert.match(page.url(), /done=key_rotated/);
      const after = (await srv.sekisho.storage.listKeys()).find((k) => k.rotatedAt === undefined)!.kid;
      assert.notEqual(after, before);
      await audit('key.rotated', (r) => r.details.kid === after && r.actor.kind === 'admin');

      await page.goto(`${srv.url}/admin/audit`);
      await page.selectOption('#a-type', 'key.rotated');
      await page.fill('#a-since', '1h');
      await navigate(page, () => page.click('form.admin-filter button[type="submit"]'));
      const cells = await page.locator('table.audit tbody tr td:nth-child(2)').allTextContents();
      assert.ok(cells.length >= 1);
      assert.deepEqual([...new Set(cells)], ['key.rotated']);

      await page.fill('#a-since', 'last tuesday');
      await navigate(page, () => page.click('form.admin-filter button[type="submit"]'));
      assert.match((await page.locator('.notice.error').textContent()) ?? '', /not understood/);
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  it('refuses a tampered CSRF token (403, nothing changes) and a signed-in non-admin (403)', async () => {
    const { ctx, page } = await context();
    try {
      await signInToConsole(page, 'admin', 'admin123');
      await page.locator('form.admin-form input[name="csrf"]').evaluate((el) => {
        (el as HTMLInputElement).value = 'forged';
      });
      await page.fill('#new-username', 'mallory');
      await page.fill('#new-password', 'mallory-horse-123');
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/admin/users/add')),
        page.click('form.admin-form button[type="submit"]'),
      ]);
      assert.equal(answer.status(), 403);
      assert.equal(await srv.sekisho.identity.findByUsername('mallory'), undefined);
      await audit('admin.action', (r) => r.details.reason === 'csrf');
    } finally {
      await ctx.close();
    }

    const other = await context();
    try {
      await other.page.goto(`${srv.url}/admin`);
      await other.page.fill('#username', 'demo');
      await other.page.fill('#password', 'demo123');
      const [answer] = await Promise.all([
        other.page.waitForResponse((r) => /\/admin$/.test(new URL(r.url()).pathname)),
        other.page.click('button[type="submit"]'),
      ]);
      await other.page.waitForLoadState('load');
      assert.equal(answer.status(), 403);
      assert.match((await other.page.textContent('body')) ?? '', /for administrators/);
      const users = await other.page.goto(`${srv.url}/admin/users`);
      assert.equal(users?.status(), 403);
    } finally {
      await other.ctx.close();
    }
  });

  it('speaks Japanese', async () => {
    const { ctx, page, problems } = await context('ja-JP');
    try {
      await signInToConsole(page, 'admin', 'admin123');
      assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
      assert.equal(await page.locator('h1').textContent(), '管理 · ユーザー');
      await page.goto(`${srv.url}/admin/audit`);
      assert.match((await page.locator('nav.admin-nav').textContent()) ?? '', /監査ログ/);
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });
});
