/**
 * How the authorization server's HTML pages go out: the headers every page carries, and the
 * stylesheet route. (The pages themselves are pure functions in `ui/`.)
 *
 * CSP: nothing may load but our own stylesheet (no scripts at all, no inline styles) and, on the
 * consent page, the one client logo origin `client-branding.ts` vetted; the page may not be framed
 * (clickjacking a consent button); forms may post only to us — and, because browsers apply
 * `form-action` to the redirects that follow a form post, to the client's redirect origin.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Lang } from '../ui/i18n.ts';
import { STYLESHEET } from '../ui/stylesheet.ts';

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

export interface PageHeaderOptions {
  /** Extra `form-action` sources (the client's redirect origin). */
  readonly formTargets?: readonly string[];
  /** Extra `img-src` sources (a vetted client logo origin). */
  readonly imageSources?: readonly string[];
}

export function setPageHeaders(res: ServerResponse, opts: PageHeaderOptions = {}): void {
  const formAction = ["'self'", ...(opts.formTargets ?? [])].join(' ');
  const imgSrc = ["'self'", 'data:', ...(opts.imageSources ?? [])].join(' ');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'self'; img-src ${imgSrc}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
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
  opts: PageHeaderOptions & { lang?: Lang } = {},
): void {
  setPageHeaders(res, opts);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  if (opts.lang) res.setHeader('Content-Language', opts.lang);
  // The language follows Accept-Language and the remembered choice (a cookie).
  res.setHeader('Vary', 'Accept-Language, Cookie');
  res.end(document);
}

const etag = `"${createHash('sha256').update(STYLESHEET).digest('base64url').slice(0, 16)}"`;

export function stylesheetRoute(): RequestHandler {
  return (req, res) => {
    res.setHeader('Content-Type', 'text/css; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('ETag', etag);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.end(STYLESHEET);
  };
}
