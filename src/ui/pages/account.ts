/**
 * The signed-in account page: the apps holding a grant for this user, each with a revoke button.
 * Several registrations of the same app (every MCP Inspector connection registers anew) must be
 * told apart, so each card shows the client id's tail, where it returns to, when it was first
 * authorized and last used (with the time zone), and what it may do.
 */
import { html } from '../html.ts';
import { formatTime, type Lang, MESSAGES } from '../i18n.ts';
import { type PageLanguage, page } from '../layout.ts';

export interface AuthorizedApp {
  readonly clientId: string;
  readonly clientName: string;
  /** Hosts (or schemes) of the app's registered redirect URIs. */
  readonly redirectHosts: readonly string[];
  readonly scopes: readonly string[];
  /** ms since the epoch. */
  readonly authorizedAt: number;
  readonly lastUsedAt: number | undefined;
}

export interface AccountView extends PageLanguage {
  readonly csrf: string;
  readonly user: { readonly name: string; readonly username: string };
  readonly apps: readonly AuthorizedApp[];
  readonly revokeAction: string;
  readonly signOutAction: string;
  /** Name of an app just revoked (confirmation banner). */
  readonly revokedName?: string;
}

/** Enough of a client id to tell two registrations apart: URL ids whole, random ids by their tail. */
export function clientIdHint(clientId: string): string {
  if (clientId.length <= 20 || clientId.startsWith('https://')) return clientId;
  return `…${clientId.slice(-8)}`;
}

function time(ms: number, lang: Lang) {
  const { iso, text } = formatTime(ms, lang);
  return html`<time datetime="${iso}">${text}</time>`;
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
<dl class="meta">
<dt>${t.clientId}</dt><dd><code title="${a.clientId}">${clientIdHint(a.clientId)}</code></dd>
${a.redirectHosts.length ? html`<dt>${t.redirectsTo}</dt><dd>${a.redirectHosts.map((h, i) => html`${i ? ', ' : ''}<code>${h}</code>`)}</dd>` : ''}
<dt>${t.authorizedOn}</dt><dd>${time(a.authorizedAt, view.lang)}</dd>
<dt>${t.lastUsed}</dt><dd>${a.lastUsedAt ? time(a.lastUsedAt, view.lang) : t.never}</dd>
</dl>
<ul class="scopes compact">${a.scopes.map((s) => html`<li>${t.scopeDescription(s)}<code class="scope-name">${s}</code></li>`)}</ul>
</li>`;
  const body = html`
<div class="topbar">
<p class="muted">${t.signedInAs} <strong>${view.user.name}</strong> ${t.aside(view.user.username)}</p>
<form method="post" action="${view.signOutAction}"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="secondary">${t.signOut}</button></form>
</div>
<h1>${t.accountTitle}</h1>
<p class="lead">${t.accountLead}</p>
${view.revokedName ? html`<div class="notice ok" role="status">${t.revoked(view.revokedName)}</div>` : ''}
${view.apps.length ? html`<ul class="apps">${view.apps.map(app)}</ul><p class="support">${t.timeZoneNote}</p>` : html`<p>${t.noApps}</p>`}
`;
  return page({ lang: view.lang, switchHref: view.switchHref, title: t.accountTitle, body, wide: true });
}
