/**
 * The page shell every HTML page of the authorization server shares: one stylesheet link (no inline
 * style or script, so the CSP in `oauth/page-http.ts` can forbid both), the brand line, a card.
 */
import { html, type SafeHtml } from './html.ts';
import type { Lang } from './i18n.ts';
import { STYLESHEET_PATH } from './stylesheet.ts';

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
