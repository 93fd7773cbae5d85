/** The error page: a plain explanation, the OAuth error code for support, never a stack trace. */
import { html } from '../html.ts';
import { type Lang, MESSAGES } from '../i18n.ts';
import { page } from '../layout.ts';

export interface ErrorView {
  readonly lang: Lang;
  readonly title?: string;
  /** The plain explanation; by default the one for `code`. */
  readonly message?: string;
  /** Technical detail (oidc-provider's error_description), shown small. */
  readonly detail?: string;
  /** OAuth error code (e.g. `invalid_redirect_uri`), shown small for whoever debugs the client. */
  readonly code?: string;
}

export function errorPage(view: ErrorView): string {
  const t = MESSAGES[view.lang];
  const title = view.title ?? t.errorTitle;
  const body = html`
<h1>${title}</h1>
<div class="notice error" role="alert">${view.message ?? t.errorExplanation(view.code)}</div>
${view.detail || view.code ? html`<p class="muted">${view.detail ?? ''} ${view.code ? html`<code>${view.code}</code>` : ''}</p>` : ''}
<p class="muted">${t.errorClose}</p>
`;
  return page({ lang: view.lang, title, body });
}

export function forbiddenPage(lang: Lang): string {
  const t = MESSAGES[lang];
  return errorPage({ lang, title: t.forbiddenTitle, message: t.forbiddenText, code: 'invalid_csrf_token' });
}
