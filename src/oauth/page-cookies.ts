/**
 * The cookies our own pages set (oidc-provider names its own in `provider.ts`): the account page's
 * short sign-in and its pre-sign-in CSRF nonce (SameSite=Strict), and the remembered language
 * (SameSite=Lax, so it holds when an app sends the browser here), and the browser binding of an
 * upstream sign-in round trip (SameSite=Lax: the provider's redirect back is a cross-site top-level
 * navigation). `__Host-` and Secure on https.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Config } from '../config/config.ts';
import { isLang } from '../ui/i18n.ts';

/** How long the chosen language is remembered. */
const LANGUAGE_SECONDS = 365 * 24 * 3600;
const LANG_COOKIE = 'sekisho_lang';

export interface PageCookies {
  readonly account: string;
  readonly accountNonce: string;
  readonly lang: string;
  readonly upstream: string;
  set(
    res: ServerResponse,
    name: string,
    value: string,
    maxAgeSeconds: number,
    sameSite?: 'Strict' | 'Lax',
  ): void;
}

export function pageCookies(config: Pick<Config, 'baseUrl'>): PageCookies {
  const https = config.baseUrl.startsWith('https:');
  const prefix = https ? '__Host-' : '';
  return {
    account: `${prefix}sekisho_account`,
    accountNonce: `${prefix}sekisho_account_csrf`,
    lang: `${prefix}${LANG_COOKIE}`,
    upstream: `${prefix}sekisho_upstream`,
    set(res, name, value, maxAgeSeconds, sameSite = 'Strict') {
      const previous = res.getHeader('Set-Cookie');
      const list = Array.isArray(previous) ? previous : previous ? [String(previous)] : [];
      const attrs = `Path=/; HttpOnly; SameSite=${sameSite}${https ? '; Secure' : ''}`;
      res.setHeader('Set-Cookie', [...list, `${name}=${value}; Max-Age=${maxAgeSeconds}; ${attrs}`]);
    },
  };
}

/** The language the user chose: this request's `?lang=` (the switch), else the remembered one. */
export function chosenLanguage(req: IncomingMessage): string | undefined {
  const query = URL.parse(req.url ?? '/', 'http://page.invalid')?.searchParams.get('lang');
  if (isLang(query)) return query;
  return readCookie(req, `__Host-${LANG_COOKIE}`) ?? readCookie(req, LANG_COOKIE);
}

/** Remembers a language picked with the switch (`?lang=en|ja` on any page), for every later page. */
export function rememberLanguage(config: Pick<Config, 'baseUrl'>): RequestHandler {
  const cookies = pageCookies(config);
  return (req, res, next) => {
    const lang = req.method === 'GET' ? req.query.lang : undefined;
    if (isLang(lang)) cookies.set(res, cookies.lang, lang, LANGUAGE_SECONDS, 'Lax');
    next();
  };
}

/** Minimal Cookie header parsing (RFC 6265 §5.4): first value wins, no decoding surprises. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
