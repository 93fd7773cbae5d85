/**
 * The sign-in page (OAuth interaction "login", and the account page's own sign-in). The error text
 * never says whether the username exists (no user enumeration); throttling says how long to wait.
 */
import { html } from '../html.ts';
import { type Lang, MESSAGES } from '../i18n.ts';
import { type PageLanguage, page } from '../layout.ts';

export interface DemoAccount {
  readonly username: string;
  readonly password: string;
  readonly role: string;
}

export type LoginProblem =
  | { readonly kind: 'invalid' }
  /** Too many attempts from this address for the window (429). */
  | { readonly kind: 'throttled'; readonly retryAfterSeconds: number }
  /** `byAddress`: this address holds its whole share of the checks (429), else the server is full (503). */
  | { readonly kind: 'busy'; readonly retryAfterSeconds: number; readonly byAddress?: boolean };

/** One "Sign in with <name>" button: a form posting to `action`. */
export interface UpstreamButton {
  readonly name: string;
  readonly action: string;
}

export interface LoginView extends PageLanguage {
  readonly action: string;
  /** Password sign-in offered (SEKISHO_LOCAL_LOGIN); default true. */
  readonly localLogin?: boolean;
  /** Upstream identity providers, shown first when present. */
  readonly upstreams?: readonly UpstreamButton[];
  readonly csrf: string;
  /** The app asking (absent on the account page's own sign-in). */
  readonly clientName?: string;
  /** Where "Cancel" posts (the interaction's deny route); no Cancel button when absent. */
  readonly cancelAction?: string;
  readonly problem?: LoginProblem;
  /** Pre-filled after a failed attempt (never the password). */
  readonly username?: string;
  /** Demo mode only. */
  readonly demoAccounts?: readonly DemoAccount[];
}

export function loginPage(view: LoginView): string {
  const t = MESSAGES[view.lang];
  const p = view.problem;
  const problem =
    p?.kind === 'throttled'
      ? t.throttled(Math.max(1, Math.ceil(p.retryAfterSeconds / 60)))
      : p?.kind === 'busy'
        ? (p.byAddress ? t.busyHere : t.busy)(p.retryAfterSeconds)
        : p && t.invalidCredentials;
  // After a failed attempt the username is kept, so the cursor waits in the password field.
  const focusPassword = view.problem !== undefined && Boolean(view.username);
  const local = view.localLogin !== false;
  const upstreams = view.upstreams ?? [];
  const body = html`
<h1>${t.signInTitle}</h1>
${
  view.clientName === undefined
    ? html`<p class="lead">${t.signInToAccount}</p>`
    : html`<p class="lead">${t.signInTo(view.clientName)}</p>`
}
${problem ? html`<div class="notice error" role="alert">${problem}</div>` : ''}
${upstreams.length ? upstreamButtons(view, upstreams) : ''}
${local ? passwordForm(view, focusPassword, upstreams.length > 0) : upstreams.length ? '' : html`<div class="notice warn">${t.localLoginOff}</div>`}
${
  !local && view.cancelAction
    ? html`<div class="actions"><form method="post" action="${view.cancelAction}"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="secondary">${t.cancel}</button></form></div>`
    : ''
}
${view.demoAccounts?.length && local ? demoBox(view.lang, view.demoAccounts) : ''}
`;
  return page({ lang: view.lang, switchHref: view.switchHref, title: t.signInTitle, body });
}

function upstreamButtons(view: LoginView, upstreams: readonly UpstreamButton[]) {
  const t = MESSAGES[view.lang];
  return html`<div class="upstreams">${upstreams.map(
    (u) =>
      html`<form method="post" action="${u.action}" class="upstream"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="primary">${t.signInWith(u.name)}</button></form>`,
  )}</div>`;
}

function passwordForm(view: LoginView, focusPassword: boolean, afterUpstreams: boolean) {
  const t = MESSAGES[view.lang];
  return html`${afterUpstreams ? html`<p class="divider">${t.orWithPassword}</p>` : ''}
<form method="post" action="${view.action}" id="login">
<input type="hidden" name="csrf" value="${view.csrf}">
<label for="username">${t.username}</label>
<input type="text" id="username" name="username" value="${view.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="128"${focusPassword ? '' : html` autofocus`}>
<label for="password">${t.password}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024"${focusPassword ? html` autofocus` : ''}>
</form>
<div class="actions">
<button type="submit" form="login" class="primary">${t.signIn}</button>
${
  view.cancelAction
    ? html`<form method="post" action="${view.cancelAction}"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="secondary">${t.cancel}</button></form>`
    : ''
}
</div>`;
}

function demoBox(lang: Lang, accounts: readonly DemoAccount[]) {
  const t = MESSAGES[lang];
  return html`<section class="demo-box" aria-labelledby="demo-title">
<h2 id="demo-title">${t.demoTitle}</h2>
<div class="notice warn">${t.demoNote}</div>
<table class="demo">
<thead><tr><th>${t.username}</th><th>${t.password}</th><th>${t.role}</th></tr></thead>
<tbody>${accounts.map((a) => html`<tr><td><code>${a.username}</code></td><td><code>${a.password}</code></td><td>${t.roleName(a.role)}</td></tr>`)}</tbody>
</table>
</section>`;
}
