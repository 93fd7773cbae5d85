/** The signed-in account page: the apps holding a grant for this user, with a revoke button each. */
import { html } from '../html.ts';
import { formatTime, type Lang, MESSAGES } from '../i18n.ts';
import { page } from '../layout.ts';

export interface AuthorizedApp {
  readonly clientId: string;
  readonly clientName: string;
  readonly scopes: readonly string[];
  /** ms since the epoch. */
  readonly authorizedAt: number;
  readonly lastUsedAt: number | undefined;
}

export interface AccountView {
  readonly lang: Lang;
  readonly csrf: string;
  readonly user: { readonly name: string; readonly username: string };
  readonly apps: readonly AuthorizedApp[];
  readonly revokeAction: string;
  readonly signOutAction: string;
  /** Name of an app just revoked (confirmation banner). */
  readonly revokedName?: string;
}

export function accountPage(view: AccountView): string {
  const t = MESSAGES[view.lang];
  const app = (a: AuthorizedApp) => html`<li>
<div class="app-head">
<h2>${a.clientName}</h2>
<form method="post" action="${view.revokeAction}">
<input type="hidden" name="csrf" value="${view.csrf}">
<input type="hidden" name="client_id" value="${a.clientId}">
<button type="submit" class="danger">${t.revoke}</button>
</form>
</div>
<ul class="scopes">${a.scopes.map((s) => html`<li>${t.scopeDescription(s)}<code class="scope-name">${s}</code></li>`)}</ul>
<dl class="meta">
<dt>${t.authorizedOn}</dt><dd>${formatTime(a.authorizedAt, view.lang)}</dd>
<dt>${t.lastUsed}</dt><dd>${a.lastUsedAt ? formatTime(a.lastUsedAt, view.lang) : t.never}</dd>
</dl>
</li>`;
  const body = html`
<div class="topbar">
<p class="muted">${t.signedInAs}: <strong>${view.user.name}</strong> (${view.user.username})</p>
<form method="post" action="${view.signOutAction}"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="secondary">${t.signOut}</button></form>
</div>
<h1>${t.accountTitle}</h1>
<p class="lead">${t.accountLead}</p>
${view.revokedName ? html`<div class="notice ok" role="status">${t.revoked(view.revokedName)}</div>` : ''}
${view.apps.length ? html`<ul class="apps">${view.apps.map(app)}</ul>` : html`<p>${t.noApps}</p>`}
`;
  return page({ lang: view.lang, title: t.accountTitle, body, wide: true });
}
