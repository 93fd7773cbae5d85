/**
 * The error page: what happened and what to do next in plain words (`ui/error-words.ts`), the OAuth
 * error code small for support, oidc-provider's developer wording folded away, never a stack trace.
 */
import { errorWords } from '../error-words.ts';
import { html } from '../html.ts';
import { type Lang, MESSAGES } from '../i18n.ts';
import { type PageLanguage, page } from '../layout.ts';

export interface ErrorView extends PageLanguage {
  /** OAuth error code (e.g. `invalid_redirect_uri`); chooses the words and is shown small. */
  readonly code?: string;
  /** oidc-provider's error_description: English, for the app's developer, folded away. */
  readonly detail?: string;
}

export function errorPage(view: ErrorView): string {
  const t = MESSAGES[view.lang];
  const words = errorWords(view.code, view.lang);
  const body = html`
<h1>${words.title}</h1>
<div class="notice error" role="alert">${words.what}</div>
<p>${words.next}</p>
${view.code ? html`<p class="support">${t.errorCode} <code>${view.code}</code></p>` : ''}
${view.detail ? html`<details class="support"><summary>${t.errorDetail}</summary><p lang="en"><code>${view.detail}</code></p></details>` : ''}
`;
  return page({ lang: view.lang, switchHref: view.switchHref, title: words.title, body });
}

export function forbiddenPage(lang: Lang, switchHref: string): string {
  return errorPage({ lang, switchHref, code: 'invalid_csrf_token' });
}
