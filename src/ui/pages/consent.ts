/**
 * The consent page: who is asking (self-asserted name, website and logo, flagged as unverified),
 * who is signed in (with a way out: "Not you? Use another account"), where the answer goes (the
 * redirect host, with a warning for a localhost-only app that registered itself), what it will be
 * able to do in plain words, what the user's role does not allow, and "remember my decision".
 */
import { html } from '../html.ts';
import { MESSAGES } from '../i18n.ts';
import { type PageLanguage, page } from '../layout.ts';

export interface ConsentView extends PageLanguage {
  readonly action: string;
  readonly denyAction: string;
  /** Signs this browser out and restarts the same authorization request at the sign-in page. */
  readonly switchAccountAction: string;
  readonly csrf: string;
  readonly clientName: string;
  /** True for clients that registered themselves (DCR) or came from a metadata document. */
  readonly selfAsserted: boolean;
  /** Host of the app's `client_uri`, already vetted (https or loopback http): text, not a link. */
  readonly websiteHost?: string;
  /** The app's `logo_uri`, already vetted (`oauth/client-branding.ts`); the CSP allows its origin. */
  readonly logoUrl?: string;
  /** Host (or scheme) the authorization response goes to; undefined for the device flow. */
  readonly redirectHost: string | undefined;
  readonly localhostOnly: boolean;
  readonly user: { readonly name: string; readonly username: string };
  readonly scopes: readonly string[];
  readonly withheld: readonly string[];
}

export function consentPage(view: ConsentView): string {
  const t = MESSAGES[view.lang];
  const scopeItem = (s: string) =>
    html`<li>${t.scopeDescription(s)}<code class="scope-name">${s}</code></li>`;
  const hasDetails = view.websiteHost !== undefined || view.logoUrl !== undefined;
  const body = html`
<div class="consent-head">
${view.logoUrl ? html`<img class="logo" src="${view.logoUrl}" alt="" width="56" height="56" referrerpolicy="no-referrer" decoding="async" loading="eager">` : ''}
<h1>${t.consentTitle}</h1>
</div>
<p class="lead">${t.consentLead(view.clientName)}</p>
${view.selfAsserted ? html`<p class="muted">${hasDetails ? t.unverifiedDetails : t.unverifiedName}</p>` : ''}
<ul class="facts">
<li><span class="label">${t.signedInAs}</span> <span><strong>${view.user.name}</strong> <span class="muted">${t.aside(view.user.username)}</span>
<form method="post" action="${view.switchAccountAction}" class="not-you"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="link">${t.notYou}</button></form></span></li>
${view.websiteHost ? html`<li><span class="label">${t.website}</span> <code>${view.websiteHost}</code></li>` : ''}
<li><span class="label">${t.redirectsTo}</span> ${view.redirectHost === undefined ? t.returnsToDevice : html`<code>${view.redirectHost}</code>`}</li>
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
  return page({ lang: view.lang, switchHref: view.switchHref, title: t.consentTitle, body });
}
