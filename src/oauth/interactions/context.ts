/**
 * What the interaction and account pages share: their dependencies, the request's language and
 * client address, CSRF checks and the error page. Kept apart from the route files so each of those
 * reads as the steps of one page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/config.ts';
import type { Identity } from '../../identity/users.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Storage } from '../../storage/types.ts';
import { type Lang, MESSAGES, pickLanguage } from '../../ui/i18n.ts';
import { errorPage, forbiddenPage } from '../../ui/pages/error.ts';
import type { DemoAccount } from '../../ui/pages/login.ts';
import { BUILT_IN_CLIENTS } from '../clients.ts';
import type { GrantService } from '../grants.ts';
import { sendPage } from '../page-http.ts';
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
  /** Listed on the sign-in page in demo mode only. */
  readonly demoAccounts: readonly DemoAccount[];
}

export function langOf(req: IncomingMessage): Lang {
  const header = req.headers['accept-language'];
  return pickLanguage(Array.isArray(header) ? header.join(',') : header);
}

/** The TCP peer. We do not trust X-Forwarded-For (trust proxy is off), so no client can choose it. */
export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  detail?: string,
): void {
  const lang = langOf(req);
  sendPage(res, status, errorPage({ lang, code, detail }), { lang });
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
  sendPage(res, 403, forbiddenPage(lang), { lang });
  return false;
}

/** A display name for a client without fetching anything (CIMD clients show their host). */
export async function clientDisplayName(storage: Storage, clientId: string): Promise<string> {
  const builtIn = BUILT_IN_CLIENTS.find((c) => c.client_id === clientId);
  if (builtIn?.client_name) return String(builtIn.client_name);
  const stored = await storage.find('Client', clientId);
  if (typeof stored?.client_name === 'string' && stored.client_name.trim()) return stored.client_name;
  const url = URL.parse(clientId);
  return url?.protocol === 'https:' ? url.host : clientId;
}

export function t(req: IncomingMessage) {
  return MESSAGES[langOf(req)];
}

/** Minimal Cookie header parsing (RFC 6265 §5.4): first value wins, no decoding surprises. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
