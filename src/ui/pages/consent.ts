/**
 * The consent page: who is asking (self-asserted name, flagged as unverified), where the answer goes
 * (the redirect host, with a warning for a localhost-only app that registered itself), what it will
 * be able to do in plain words, what the user's role does not allow, and "remember my decision".
 */
import { html } from '../html.ts';
import { type Lang, MESSAGES } from '../i18n.ts';
import { page } from '../layout.ts';

export interface ConsentView {
  readonly lang: Lang;
  readonly action: string;
  readonly denyAction: string;
  readonly csrf: string;
  readonly clientName: string;
  /** True for clients that registered themselves (DCR) or came from a metadata document. */
  readonly selfAsserted: boolean;
  /** Host (or scheme) the authorization response goes to. */
  readonly redirectHost: string;
  readonly localhostOnly: boolean;
  readonly user: { readonly name: string; readonly username: string };
  readonly scopes: readonly string[];
  readonly withheld: readonly string[];
}

export function consentPage(view: ConsentView): string {
  const t = MESSAGES[view.lang];
  const scopeItem = (s: string) =>
    html`<li>${t.scopeDescription(s)}<code class="scope-name">${s}</code></li>`;
  const body = html`
<h1>${t.consentTitle}</h1>
<p class="lead"><span class="client">${view.clientName}</span> ${t.consentLead}</p>
${view.selfAsserted ? html`<p class="muted">${t.unverifiedName}</p>` : ''}
<ul class="facts">
<li><span class="label">${t.signedInAs}</span> <span><strong>${view.user.name}</strong> <span class="muted">(${view.user.username})</span></span></li>
<li><span class="label">${t.redirectsTo}</span> <code>${view.redirectHost}</code></li>
</ul>
${view.localhostOnly && view.selfAsserted ? html`<div class="notice warn">${t.localhostWarning}</div>` : ''}
<h2>${t.willAllow}</h2>
<ul class="scopes">${view.scopes.map(scopeItem)}</ul>
${view.withheld.length ? html`<h2>${t.withheld}</h2><ul class="scopes withheld">${view.withheld.map(scopeItem)}</ul>` : ''}
<form method="post" action="${view.action}" id="consent">
<input type="hidden" name="csrf" value="${view.csrf}">
<label class="check"><input type="checkbox" name="remember" value="1"> <span>${t.remember}</span></label>
</form>
<div class="actions">
<button type="submit" form="consent" class="primary">${t.allow}</button>
<form method="post" action="${view.denyAction}"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="secondary">${t.deny}</button></form>
</div>
`;
  return page({ lang: view.lang, title: t.consentTitle, body });
}
