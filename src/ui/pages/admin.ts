/**
 * The admin console's pages: one shell (who is signed in, the sections, a notice or a problem) and
 * one renderer per section. Pure, like every page: the routes (`oauth/admin-routes.ts`) gather the
 * data; everything shown is escaped by `html`, including names clients chose for themselves.
 */
import type { Role } from '../../access/scopes.ts';
import { ADMIN_SECTIONS, ADMIN_WORDS, type AdminNotice, type AdminWords } from '../admin-words.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatTime, type Lang, MESSAGES } from '../i18n.ts';
import { type PageLanguage, page } from '../layout.ts';

export interface AdminShell extends PageLanguage {
  readonly csrf: string;
  readonly admin: { readonly id: string; readonly name: string; readonly username: string };
  readonly basePath: string;
  readonly signOutAction: string;
  readonly notice?: AdminNotice | undefined;
  /** A refused action or filter, in plain words (English from identity/validation for inputs). */
  readonly problem?: string | undefined;
}

export interface AdminUserRow {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly disabled: boolean;
}

export interface AdminClientRow {
  readonly clientId: string;
  readonly name: string | undefined;
  readonly kind: 'dcr' | 'cimd' | 'machine' | 'operator' | 'built_in';
  readonly createdAt: number | undefined;
  readonly lastUsedAt: number | undefined;
  readonly expiresAt: number | undefined;
  readonly grants: number;
  /** Stored registrations can be removed; CIMD and built-in clients are not stored. */
  readonly removable: boolean;
}

export interface AdminGrantRow {
  readonly grantId: string;
  readonly userId: string;
  readonly username: string | undefined;
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly lastUsedAt: number | undefined;
  readonly expiresAt: number | undefined;
}

export interface AdminKeyRow {
  readonly kid: string;
  readonly alg: string | undefined;
  readonly active: boolean;
  readonly createdAt: number;
  readonly rotatedAt: number | undefined;
}

export interface AdminAuditRow {
  readonly at: number;
  readonly type: string;
  readonly outcome: 'success' | 'failure';
  readonly actor: string;
  readonly user: string | undefined;
  readonly clientId: string | undefined;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  readonly details: string;
}

export type AdminView =
  | { readonly section: 'users'; readonly users: readonly AdminUserRow[]; readonly minPasswordLength: number }
  | { readonly section: 'clients'; readonly clients: readonly AdminClientRow[] }
  | {
      readonly section: 'grants';
      readonly grants: readonly AdminGrantRow[];
      readonly filter: { readonly user: string; readonly client: string };
    }
  | { readonly section: 'keys'; readonly keys: readonly AdminKeyRow[] }
  | {
      readonly section: 'audit';
      readonly records: readonly AdminAuditRow[];
      readonly types: readonly string[];
      readonly filter: {
        readonly user: string;
        readonly client: string;
        readonly type: string;
        readonly since: string;
      };
    };

function time(ms: number | undefined, lang: Lang, never: string): SafeHtml | string {
  if (ms === undefined) return never;
  const { iso, text } = formatTime(ms, lang);
  return html`<time datetime="${iso}">${text}</time>`;
}

export function adminPage(shell: AdminShell, view: AdminView): string {
  const w = ADMIN_WORDS[shell.lang];
  const t = MESSAGES[shell.lang];
  const nav = html`<nav class="admin-nav" aria-label="${w.title}"><ul>${ADMIN_SECTIONS.map(
    (s) =>
      html`<li><a href="${shell.basePath}/${s}"${s === view.section ? html` aria-current="page"` : ''}>${w.sections[s]}</a></li>`,
  )}</ul></nav>`;
  const body = html`
<div class="topbar">
<p class="muted">${t.signedInAs} <strong>${shell.admin.name}</strong> ${t.aside(shell.admin.username)}</p>
<form method="post" action="${shell.signOutAction}"><input type="hidden" name="csrf" value="${shell.csrf}"><button type="submit" class="secondary">${t.signOut}</button></form>
</div>
<h1>${w.title} · ${w.sections[view.section]}</h1>
${nav}
${shell.notice ? html`<div class="notice ok" role="status">${w.notices[shell.notice]}</div>` : ''}
${shell.problem ? html`<div class="notice error" role="alert">${shell.problem}</div>` : ''}
${section(shell, view, w)}
<p class="support">${w.timeZoneNote}</p>
`;
  return page({
    lang: shell.lang,
    switchHref: shell.switchHref,
    title: `${w.title} · ${w.sections[view.section]}`,
    body,
    wide: true,
    admin: true,
  });
}

/** A POST form with the CSRF token and hidden fields, around `inner`. */
function action(shell: AdminShell, path: string, hidden: Record<string, string>, inner: SafeHtml): SafeHtml {
  return html`<form method="post" action="${shell.basePath}/${path}" class="inline">
<input type="hidden" name="csrf" value="${shell.csrf}">
${Object.entries(hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
${inner}
</form>`;
}

function roleOptions(lang: Lang, selected: Role): SafeHtml {
  return html`${(['user', 'admin'] as const).map(
    (r) =>
      html`<option value="${r}"${r === selected ? html` selected` : ''}>${MESSAGES[lang].roleName(r)}</option>`,
  )}`;
}

function section(shell: AdminShell, view: AdminView, w: AdminWords): SafeHtml {
  const lang = shell.lang;
  switch (view.section) {
    case 'users':
      return html`
<table class="admin">
<thead><tr><th>${w.username}</th><th>${w.name}</th><th>${w.role}</th><th>${w.status}</th><th>${w.created}</th><th></th></tr></thead>
<tbody>${view.users.map((u) => {
        const self = u.id === shell.admin.id;
        return html`<tr>
<td><code>${u.username}</code>${self ? html` <span class="muted">${MESSAGES[lang].aside(w.you)}</span>` : ''}</td>
<td>${u.name}${u.email ? html`<br><span class="muted">${u.email}</span>` : ''}</td>
<td>${action(shell, 'users/role', { username: u.username }, html`<label class="visually-hidden" for="role-${u.id}">${w.role}</label><select id="role-${u.id}" name="role">${roleOptions(lang, u.role)}</select> <button type="submit" class="secondary">${w.changeRole}</button>`)}</td>
<td>${u.disabled ? html`<strong class="bad">${w.disabled}</strong>` : w.active}</td>
<td>${time(u.createdAt, lang, w.never)}</td>
<td class="row-actions">${action(shell, 'users/disable', { username: u.username, disabled: u.disabled ? '0' : '1' }, html`<button type="submit" class="${u.disabled ? 'secondary' : 'danger'}">${u.disabled ? w.enable : w.disable}</button>`)}
${action(shell, 'users/password', { username: u.username }, html`<label class="visually-hidden" for="pw-${u.id}">${w.newPassword}</label><input type="password" id="pw-${u.id}" name="password" autocomplete="new-password" placeholder="${w.newPassword}" minlength="${view.minPasswordLength}" required> <button type="submit" class="danger">${w.resetPassword}</button>`)}</td>
</tr>`;
      })}</tbody>
</table>
<p class="support">${w.resetPasswordNote}</p>
<h2>${w.addUser}</h2>
<form method="post" action="${shell.basePath}/users/add" class="admin-form">
<input type="hidden" name="csrf" value="${shell.csrf}">
<label for="new-username">${w.username}</label><input type="text" id="new-username" name="username" autocomplete="off" required maxlength="64">
<label for="new-name">${w.name}</label><input type="text" id="new-name" name="name" maxlength="200">
<label for="new-email">${w.email}</label><input type="text" id="new-email" name="email" maxlength="254">
<label for="new-role">${w.role}</label><select id="new-role" name="role">${roleOptions(lang, 'user')}</select>
<label for="new-password">${w.initialPassword}</label><input type="password" id="new-password" name="password" autocomplete="new-password" minlength="${view.minPasswordLength}" required>
<p class="support">${w.passwordRule(view.minPasswordLength)}</p>
<button type="submit" class="primary">${w.add}</button>
</form>`;
    case 'clients':
      if (view.clients.length === 0) return html`<p>${w.noClients}</p>`;
      return html`
<table class="admin">
<thead><tr><th>${w.client}</th><th>${w.kind}</th><th>${w.created}</th><th>${w.lastUsed}</th><th>${w.expires}</th><th>${w.grants}</th><th></th></tr></thead>
<tbody>${view.clients.map(
        (c) => html`<tr>
<td>${c.name ?? ''}<br><code class="id">${c.clientId}</code></td>
<td>${w.kinds[c.kind]}</td>
<td>${time(c.createdAt, lang, '—')}</td>
<td>${time(c.lastUsedAt, lang, w.never)}</td>
<td>${time(c.expiresAt, lang, w.never)}</td>
<td><a href="${shell.basePath}/grants?client=${encodeURIComponent(c.clientId)}">${c.grants}</a></td>
<td class="row-actions">${c.removable ? action(shell, 'clients/remove', { client_id: c.clientId }, html`<button type="submit" class="danger">${w.remove}</button>`) : ''}</td>
</tr>`,
      )}</tbody>
</table>`;
    case 'grants':
      return html`
<form method="get" action="${shell.basePath}/grants" class="admin-filter">
<label for="g-user">${w.user}</label><input type="text" id="g-user" name="user" value="${view.filter.user}" maxlength="200">
<label for="g-client">${w.client}</label><input type="text" id="g-client" name="client" value="${view.filter.client}" maxlength="200">
<button type="submit" class="secondary">${w.filter}</button> <a href="${shell.basePath}/grants">${w.clearFilter}</a>
</form>
${
  view.grants.length === 0
    ? html`<p>${w.noGrants}</p>`
    : html`<table class="admin">
<thead><tr><th>${w.user}</th><th>${w.client}</th><th>${w.scopes}</th><th>${w.created}</th><th>${w.lastUsed}</th><th>${w.expires}</th><th></th></tr></thead>
<tbody>${view.grants.map(
        (g) => html`<tr>
<td>${g.username ?? html`<code>${g.userId}</code>`}</td>
<td>${g.clientName ?? ''}<br><code class="id">${g.clientId}</code></td>
<td>${g.scopes.map((s, i) => html`${i ? ' ' : ''}<code>${s}</code>`)}</td>
<td>${time(g.createdAt, lang, '—')}</td>
<td>${time(g.lastUsedAt, lang, w.never)}</td>
<td>${time(g.expiresAt, lang, w.never)}</td>
<td class="row-actions">${action(shell, 'grants/revoke', { grant_id: g.grantId }, html`<button type="submit" class="danger">${w.revoke}</button>`)}</td>
</tr>`,
      )}</tbody>
</table>`
}`;
    case 'keys':
      return html`
<table class="admin">
<thead><tr><th>${w.keyId}</th><th>${w.algorithm}</th><th>${w.status}</th><th>${w.created}</th><th>${w.rotatedAt}</th></tr></thead>
<tbody>${view.keys.map(
        (k) => html`<tr>
<td><code class="id">${k.kid}</code></td><td>${k.alg ?? ''}</td>
<td>${k.active ? html`<strong>${w.keyActive}</strong>` : w.keyRotated}</td>
<td>${time(k.createdAt, lang, '—')}</td><td>${time(k.rotatedAt, lang, '—')}</td>
</tr>`,
      )}</tbody>
</table>
<p>${w.rotateNote}</p>
${action(shell, 'keys/rotate', {}, html`<button type="submit" class="danger">${w.rotate}</button>`)}`;
    case 'audit':
      return html`
<form method="get" action="${shell.basePath}/audit" class="admin-filter">
<label for="a-user">${w.user}</label><input type="text" id="a-user" name="user" value="${view.filter.user}" maxlength="200">
<label for="a-client">${w.client}</label><input type="text" id="a-client" name="client" value="${view.filter.client}" maxlength="200">
<label for="a-type">${w.type}</label><select id="a-type" name="type"><option value="">${w.anyType}</option>${view.types.map(
        (type) =>
          html`<option value="${type}"${type === view.filter.type ? html` selected` : ''}>${type}</option>`,
      )}</select>
<label for="a-since">${w.since}</label><input type="text" id="a-since" name="since" value="${view.filter.since}" maxlength="40" aria-describedby="a-since-hint">
<button type="submit" class="secondary">${w.filter}</button> <a href="${shell.basePath}/audit">${w.clearFilter}</a>
<p class="support" id="a-since-hint">${w.sinceHint}</p>
</form>
${
  view.records.length === 0
    ? html`<p>${w.noRecords}</p>`
    : html`<p class="support">${w.showingNewest(view.records.length)}</p>
<table class="admin audit">
<thead><tr><th>${w.time}</th><th>${w.event}</th><th>${w.outcome}</th><th>${w.actor}</th><th>${w.user}</th><th>${w.client}</th><th>${w.address}</th><th>${w.details}</th></tr></thead>
<tbody>${view.records.map(
        (r) => html`<tr>
<td>${time(r.at, lang, '—')}</td><td><code>${r.type}</code></td>
<td>${r.outcome === 'success' ? w.success : html`<strong class="bad">${w.failure}</strong>`}</td>
<td>${r.actor}</td><td>${r.user ?? ''}</td><td>${r.clientId ? html`<code class="id">${r.clientId}</code>` : ''}</td>
<td>${r.ip ?? ''}${r.userAgent ? html`<br><span class="muted ua">${r.userAgent}</span>` : ''}</td>
<td><code class="details">${r.details}</code></td>
</tr>`,
      )}</tbody>
</table>`
}`;
  }
}
