/**
 * The page shell every HTML page of the authorization server shares: one stylesheet link (no inline
 * style or script, so the CSP in `oauth/page-http.ts` can forbid both), the brand line, the language
 * switch, a card.
 */
import { html, type SafeHtml } from './html.ts';
import { LANGUAGE_NAMES, type Lang, MESSAGES, otherLanguage } from './i18n.ts';
import { STYLESHEET_PATH } from './stylesheet.ts';

/** What every page view carries: its language and where the switch to the other one goes. */
export interface PageLanguage {
  readonly lang: Lang;
  /** This page (or its GET equivalent) in the other language: see `languageHref`. */
  readonly switchHref: string;
}

export interface PageOptions extends PageLanguage {
  readonly title: string;
  readonly body: SafeHtml;
  /** A wider card (the account page's list). */
  readonly wide?: boolean;
  /** The widest card, for the admin console's tables. */
  readonly admin?: boolean;
}

/**
 * A same-site link to `pathAndQuery` with `lang` set to `lang`. Always a path (never `//host`), so
 * whatever the request line held, the switch cannot point off this server.
 */
export function languageHref(pathAndQuery: string, lang: Lang): string {
  // A would-be authority (`//host/x`) is dropped by taking only the path; one that cannot even be
  // parsed (`///`, an empty host) gives the site's root.
  const url = URL.parse(pathAndQuery, 'http://page.invalid') ?? new URL('http://page.invalid/');
  url.searchParams.set('lang', lang);
  return `/${url.pathname.replace(/^\/+/, '')}${url.search}`;
}

export function page({ lang, switchHref, title, body, wide, admin }: PageOptions): string {
  const other = otherLanguage(lang);
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
<main class="${admin ? 'card wide admin' : wide ? 'card wide' : 'card'}">
<header class="top">
<p class="brand"><span class="mark" aria-hidden="true">関</span> Sekisho</p>
<nav class="lang-switch" aria-label="${MESSAGES[lang].languageSwitch}"><a href="${switchHref}" hreflang="${other}" lang="${other}">${LANGUAGE_NAMES[other]}</a></nav>
</header>
${body}
</main>
</body>
</html>
`.value;
}
