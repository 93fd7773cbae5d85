/**
 * The page shell and the headers every HTML page of the authorization server carries.
 *
 * CSP: nothing may load but our own stylesheet (no scripts at all, no inline styles), the page may
 * not be framed (clickjacking a consent button), forms may post only to us — and, because browsers
 * apply `form-action` to the redirects that follow a form post, to the client's redirect origin.
 */
import type { ServerResponse } from 'node:http';
import { STYLESHEET_PATH } from '../oauth/routes.ts';
import { html, type SafeHtml } from './html.ts';
import type { Lang } from './i18n.ts';

export interface PageOptions {
  readonly lang: Lang;
  readonly title: string;
  readonly body: SafeHtml;
  /** A wider card (the account page's list). */
  readonly wide?: boolean;
}

export function page({ lang, title, body, wide }: PageOptions): string {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${title} · Sekisho</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main class="${wide ? 'card wide' : 'card'}">
<p class="brand"><span class="mark" aria-hidden="true">関</span> Sekisho</p>
${body}
</main>
</body>
</html>
`.value;
}

/**
 * A CSP source for a redirect URI: its origin for http(s), its scheme for a private-use scheme
 * (RFC 8252 §7.1), nothing for anything unparseable.
 */
export function formTargetSource(redirectUri: string | undefined): string | undefined {
  const url = redirectUri ? URL.parse(redirectUri) : null;
  if (!url) return undefined;
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : undefined;
}

export function setPageHeaders(res: ServerResponse, opts: { formTargets?: readonly string[] } = {}): void {
  const formAction = ["'self'", ...(opts.formTargets ?? [])].join(' ');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

export function sendPage(
  res: ServerResponse,
  status: number,
  document: string,
  opts: { formTargets?: readonly string[]; lang?: Lang } = {},
): void {
  setPageHeaders(res, opts);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  if (opts.lang) res.setHeader('Content-Language', opts.lang);
  res.setHeader('Vary', 'Accept-Language');
  res.end(document);
}
