/**
 * What the interaction and account pages share: their dependencies, the request's language and
 * client address, CSRF checks and the error page. Kept apart from the route files so each of those
 * reads as the steps of one page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { Audit } from '../../audit/audit.ts';
import type { Config } from '../../config/config.ts';
import type { Federation } from '../../federation/index.ts';
import type { AuthResult, Identity } from '../../identity/users.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Storage } from '../../storage/types.ts';
import { displayText } from '../../ui/display-text.ts';
import { type Lang, otherLanguage, resolveLanguage } from '../../ui/i18n.ts';
import { languageHref } from '../../ui/layout.ts';
import { errorPage, forbiddenPage } from '../../ui/pages/error.ts';
import type { DemoAccount, LoginProblem } from '../../ui/pages/login.ts';
import { BUILT_IN_CLIENTS } from '../clients.ts';
import type { GrantService } from '../grants.ts';
import { chosenLanguage } from '../page-cookies.ts';
import { sendPage } from '../page-http.ts';
import { ACCOUNT_PATH, ADMIN_PATH, INTERACTION_PREFIX } from '../routes.ts';
import type { ScopePolicy } from '../scope-policy.ts';
import type { ServerSecrets } from '../secrets.ts';

export interface PageDeps {
  readonly config: Config;
  readonly provider: Provider;
  readonly storage: Storage;
  readonly identity: Identity;
  readonly policy: ScopePolicy;
  readonly grants: GrantService;
  readonly secrets: ServerSecrets;
  readonly logger: Logger;
  readonly audit: Audit;
  /** Listed on the sign-in page in demo mode only. */
  readonly demoAccounts: readonly DemoAccount[];
  /** Upstream identity providers; undefined when none is configured. */
  readonly federation: Federation | undefined;
}

/**
 * The page's language: the user's choice (switch or cookie), else the authorization request's
 * `ui_locales` (pass `interaction.params.ui_locales`), else Accept-Language (`ui/i18n.ts`).
 */
export function langOf(req: IncomingMessage, uiLocales?: unknown): Lang {
  const header = req.headers['accept-language'];
  return resolveLanguage({
    chosen: chosenLanguage(req),
    uiLocales,
    acceptLanguage: Array.isArray(header) ? header.join(',') : header,
  });
}

/**
 * The language switch's target: this very page for a GET (its query, such as the account page's
 * notice, kept), and for a form post the page the form was on (`/interaction/:uid`, `/account`),
 * since a post cannot be replayed by a link.
 */
export function switchHref(req: IncomingMessage, lang: Lang): string {
  const here = (req as Partial<Request>).originalUrl ?? req.url ?? '/';
  const path = req.method === 'GET' ? here : (formPageOf(here) ?? here.split('?')[0]!);
  return languageHref(path, otherLanguage(lang));
}

const FORM_PAGE = new RegExp(
  `^(${INTERACTION_PREFIX}/[^/?]+|${ACCOUNT_PATH}|${ADMIN_PATH}(?:/[a-z]+)?)(?=[/?]|$)`,
);

function formPageOf(path: string): string | undefined {
  return FORM_PAGE.exec(path)?.[1];
}

/** The TCP peer. We do not trust X-Forwarded-For (trust proxy is off), so no client can choose it. */
export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** The sign-in page's problem for a refused sign-in. */
export function loginProblem(result: Exclude<AuthResult, { ok: true }>): LoginProblem {
  if (result.reason === 'invalid') return { kind: 'invalid' };
  if (result.reason === 'throttled')
    return { kind: 'throttled', retryAfterSeconds: result.retryAfterSeconds };
  return { kind: 'busy', retryAfterSeconds: result.retryAfterSeconds, byAddress: result.byAddress };
}

/** HTTP status of a sign-in page showing `problem` (401, 429, 503), with Retry-After set when due. */
export function loginStatus(res: ServerResponse, problem: LoginProblem | undefined): number {
  if (!problem) return 200;
  if (problem.kind === 'invalid') return 401;
  res.setHeader('Retry-After', String(problem.retryAfterSeconds));
  // The caller's own excess is a 429; only a server that is full for everyone answers 503.
  return problem.kind === 'throttled' || (problem.kind === 'busy' && problem.byAddress) ? 429 : 503;
}

export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  detail?: string,
): void {
  const lang = langOf(req);
  sendPage(res, status, errorPage({ lang, switchHref: switchHref(req, lang), code, detail }), { lang });
}

/** Answers 403 with the "form expired" page unless the form carried a valid CSRF token. */
export function checkCsrf(
  deps: PageDeps,
  req: Request,
  res: Response,
  purpose: string,
  binding: string,
): boolean {
  const presented = (req.body as Record<string, unknown> | undefined)?.csrf;
  if (deps.secrets.csrfValid(purpose, binding, presented)) return true;
  const lang = langOf(req);
  sendPage(res, 403, forbiddenPage(lang, switchHref(req, lang)), { lang });
  return false;
}

/**
 * A display name for a client without fetching anything (CIMD clients show their host). Always
 * through `displayText`: the name is chosen by whoever registered the client.
 */
export async function clientDisplayName(storage: Storage, clientId: string): Promise<string> {
  const builtIn = BUILT_IN_CLIENTS.find((c) => c.client_id === clientId);
  if (builtIn?.client_name) return displayText(String(builtIn.client_name));
  const stored = await storage.find('Client', clientId);
  const name = typeof stored?.client_name === 'string' ? displayText(stored.client_name) : '';
  if (name) return name;
  const url = URL.parse(clientId);
  return displayText(url?.protocol === 'https:' ? url.host : clientId);
}

/** A client's registered redirect URIs, from what is stored (never fetched: the account page stays offline). */
export async function clientRedirectUris(storage: Storage, clientId: string): Promise<string[]> {
  const builtIn = BUILT_IN_CLIENTS.find((c) => c.client_id === clientId);
  const uris = builtIn?.redirect_uris ?? (await storage.find('Client', clientId))?.redirect_uris;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}
