/**
 * The account page (/account): the apps this user has authorized, each with a revoke button.
 *
 * Who is signed in: the account page's own short cookie (set by signing in here), or else the
 * authorization server's browser session (someone who just approved an app is already signed in).
 * The account cookie is SameSite=Strict, HttpOnly, signed, `__Host-` on https. Every form carries a
 * CSRF token bound to the signed-in session (or, on the sign-in form, to a random pre-session nonce).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import express, { type Request, type Response, Router } from 'express';
import { type AuthorizedApp, accountPage } from '../ui/pages/account.ts';
import { type LoginProblem, loginPage } from '../ui/pages/login.ts';
import { redirectHosts } from './client-branding.ts';
import {
  checkCsrf,
  clientDisplayName,
  clientIp,
  clientRedirectUris,
  langOf,
  loginProblem,
  loginStatus,
  type PageDeps,
  switchHref,
} from './interactions/context.ts';
import { localLoginOff } from './interactions/login.ts';
import { pageCookies, readCookie } from './page-cookies.ts';
import { sendPage } from './page-http.ts';
import { signedInLookup } from './page-session.ts';
import { ACCOUNT_PATH, ADMIN_PATH } from './routes.ts';

const ACCOUNT_CSRF = 'account';
const ACCOUNT_LOGIN_CSRF = 'account-login';
/** How long after a revocation its notice may still be shown (the redirect that follows it). */
const REVOKED_NOTICE_SECONDS = 60;
/** How long the account page stays signed in. */
const ACCOUNT_SESSION_SECONDS = 30 * 60;

const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

export function accountRoutes(deps: PageDeps): Router {
  const { config, provider, identity, grants, secrets, storage } = deps;
  const cookies = pageCookies(config);
  const accountCookie = cookies.account;
  const nonceCookie = cookies.accountNonce;
  const setCookie = (res: ServerResponse, name: string, value: string, maxAge: number) =>
    cookies.set(res, name, value, maxAge);

  const signedIn = signedInLookup(deps);

  function showSignIn(req: Request, res: Response, problem?: LoginProblem, username?: string) {
    const lang = langOf(req);
    const nonce = randomBytes(16).toString('base64url');
    setCookie(res, nonceCookie, nonce, 15 * 60);
    const status = loginStatus(res, problem);
    const document = loginPage({
      lang,
      switchHref: switchHref(req, lang),
      // `next=admin` (a fixed word, never a URL) sends an administrator on to the console.
      action: `${ACCOUNT_PATH}/login${req.query.next === 'admin' ? '?next=admin' : ''}`,
      localLogin: deps.config.localLogin,
      csrf: secrets.csrfToken(ACCOUNT_LOGIN_CSRF, nonce),
      problem,
      username,
      demoAccounts: deps.demoAccounts,
    });
    sendPage(res, status, document, { lang });
  }

  /** One card per client (its grants merged), most recently used first. */
  async function listApps(accountId: string): Promise<AuthorizedApp[]> {
    const byClient = new Map<string, AuthorizedApp>();
    for (const g of await grants.listGrants({ accountId })) {
      const seen = byClient.get(g.clientId);
      const lastUsed = Math.max(g.lastUsedAt ?? 0, seen?.lastUsedAt ?? 0);
      byClient.set(g.clientId, {
        clientId: g.clientId,
        clientName: seen?.clientName ?? (await clientDisplayName(storage, g.clientId)),
        redirectHosts: seen?.redirectHosts ?? redirectHosts(await clientRedirectUris(storage, g.clientId)),
        scopes: [...new Set([...(seen?.scopes ?? []), ...g.scopes])].filter((s) => s !== 'openid'),
        authorizedAt: Math.min(g.createdAt, seen?.authorizedAt ?? Number.POSITIVE_INFINITY),
        lastUsedAt: lastUsed > 0 ? lastUsed : undefined,
      });
    }
    const recency = (a: AuthorizedApp) => Math.max(a.lastUsedAt ?? 0, a.authorizedAt);
    return [...byClient.values()].sort((a, b) => recency(b) - recency(a));
  }

  /** The client id of a revocation this signed-in user made within the last minute, else undefined. */
  function revokedJustNow(value: unknown, binding: string): string | undefined {
    const marker = typeof value === 'string' && value.length <= 2048 ? secrets.unsign(value) : undefined;
    const [, exp = '0', bound, clientId] = /^revoked\|(\d+)\|([\w-]+)\|(.+)$/s.exec(marker ?? '') ?? [];
    if (!clientId || Number(exp) < Date.now() / 1000 || bound !== digest(binding)) return undefined;
    return clientId;
  }

  const router = Router();

  router.get('/', async (req, res) => {
    const who = await signedIn(req, res);
    if (!who) return showSignIn(req, res);
    const user = (await identity.findById(who.accountId))!;
    const lang = langOf(req);
    const revoked = revokedJustNow(req.query.revoked, who.binding);
    const document = accountPage({
      lang,
      switchHref: switchHref(req, lang),
      csrf: secrets.csrfToken(ACCOUNT_CSRF, who.binding),
      user: { name: user.name, username: user.username },
      apps: await listApps(who.accountId),
      revokeAction: `${ACCOUNT_PATH}/revoke`,
      signOutAction: `${ACCOUNT_PATH}/logout`,
      revokedName: revoked ? await clientDisplayName(storage, revoked) : undefined,
    });
    sendPage(res, 200, document, { lang });
  });

  router.post('/login', form, async (req, res) => {
    const nonce = readCookie(req, nonceCookie) ?? '';
    if (!checkCsrf(deps, req, res, ACCOUNT_LOGIN_CSRF, nonce)) return;
    if (!deps.config.localLogin) throw localLoginOff();
    const body = (req.body ?? {}) as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username.slice(0, 128) : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const result = await identity.authenticate(username, password, clientIp(req));
    if (!result.ok) return showSignIn(req, res, loginProblem(result), username);
    const exp = Math.floor(Date.now() / 1000) + ACCOUNT_SESSION_SECONDS;
    const stamp = await identity.credentialStamp(result.user.id);
    setCookie(res, accountCookie, secrets.sign(`${result.user.id}|${exp}|${stamp}`), ACCOUNT_SESSION_SECONDS);
    setCookie(res, nonceCookie, '', 0);
    res.redirect(303, req.query.next === 'admin' ? ADMIN_PATH : ACCOUNT_PATH);
  });

  router.post('/revoke', form, async (req, res) => {
    const who = await signedIn(req, res);
    if (!who) return res.redirect(303, ACCOUNT_PATH);
    if (!checkCsrf(deps, req, res, ACCOUNT_CSRF, who.binding)) return;
    const clientId = typeof req.body?.client_id === 'string' ? req.body.client_id : '';
    // Only this user's grants: the client id alone never reaches anyone else's.
    for (const g of await grants.listGrants({ accountId: who.accountId, clientId })) {
      await grants.revokeGrant(g.grantId, { actor: { kind: 'user', id: who.accountId }, by: 'user' });
    }
    // The notice is a flash: a signed marker, bound to this sign-in, that expires within a minute. A
    // link with any other `revoked` value shows nothing.
    const exp = Math.floor(Date.now() / 1000) + REVOKED_NOTICE_SECONDS;
    const marker = secrets.sign(`revoked|${exp}|${digest(who.binding)}|${clientId}`);
    res.redirect(303, `${ACCOUNT_PATH}?revoked=${encodeURIComponent(marker)}`);
  });

  router.post('/logout', form, async (req, res) => {
    const who = await signedIn(req, res);
    if (who && !checkCsrf(deps, req, res, ACCOUNT_CSRF, who.binding)) return;
    setCookie(res, accountCookie, '', 0);
    const session = await provider.Session.get(provider.createContext(req, res));
    if (session.accountId) await session.destroy();
    res.redirect(303, ACCOUNT_PATH);
  });

  return router;
}

/** A short, URL-safe digest: the revocation notice names the sign-in it belongs to without exposing it. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}
