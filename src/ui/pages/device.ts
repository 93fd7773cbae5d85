/**
 * The device-flow pages (RFC 8628 §3.3): the user types the code their device shows, checks that the
 * request is theirs (which app, what it may do, the code again, where the request came from, who is
 * signed in here), then allows or denies; the last page says to go back to the device. The forms
 * post to oidc-provider's verification endpoint with its own CSRF value (`xsrf`).
 */
import { html } from '../html.ts';
import { MESSAGES } from '../i18n.ts';
import { type PageLanguage, page } from '../layout.ts';

export type DeviceProblem = 'wrong_code' | 'expired' | 'used' | 'throttled' | 'failed';

export interface DeviceCodeEntryView extends PageLanguage {
  readonly action: string;
  readonly xsrf: string;
  readonly problem?: DeviceProblem;
  /** Shown as the answer to a request the user just denied. */
  readonly denied?: boolean;
  /** Length of the code without separators, and its shape (e.g. `****-****`), for the input hints. */
  readonly mask: string;
}

export function deviceCodeEntryPage(view: DeviceCodeEntryView): string {
  const t = MESSAGES[view.lang];
  const problem = view.problem ? t.deviceProblem(view.problem) : undefined;
  const body = html`
<h1>${t.deviceTitle}</h1>
${view.denied ? html`<div class="notice ok" role="status">${t.deviceDenied}</div>` : ''}
${problem ? html`<div class="notice error" role="alert">${problem}</div>` : ''}
<p class="lead">${t.deviceLead}</p>
<form method="post" action="${view.action}" id="device-code">
<input type="hidden" name="xsrf" value="${view.xsrf}">
<label for="user_code">${t.deviceCodeLabel}</label>
<input type="text" id="user_code" name="user_code" class="user-code" placeholder="${view.mask.replace(/\*/g, 'X')}" maxlength="${view.mask.length + 8}" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus>
<p class="muted">${t.deviceCodeHint}</p>
</form>
<div class="actions">
<button type="submit" form="device-code" class="primary">${t.deviceContinue}</button>
</div>
`;
  return page({ lang: view.lang, switchHref: view.switchHref, title: t.deviceTitle, body });
}

export interface DeviceConfirmView extends PageLanguage {
  readonly action: string;
  readonly xsrf: string;
  readonly userCode: string;
  readonly clientName: string;
  /** The client registered itself (or came from a metadata document): its name is unverified. */
  readonly selfAsserted: boolean;
  readonly scopes: readonly string[];
  /** The account signed in here, if any (otherwise the sign-in page follows). */
  readonly user?: { readonly name: string; readonly username: string };
  /** Where the device started the request from (RFC 8628 §5.4: help the user spot a phishing relay). */
  readonly device: { readonly ip?: string; readonly userAgent?: string };
}

export function deviceConfirmPage(view: DeviceConfirmView): string {
  const t = MESSAGES[view.lang];
  const scopeItem = (s: string) =>
    html`<li>${t.scopeDescription(s)}<code class="scope-name">${s}</code></li>`;
  const body = html`
<h1>${t.deviceConfirmTitle}</h1>
<p class="lead"><span class="client">${view.clientName}</span> ${t.deviceConfirmLead}</p>
${view.selfAsserted ? html`<p class="muted">${t.unverifiedName}</p>` : ''}
<p class="user-code-shown"><code>${view.userCode}</code></p>
<div class="notice warn">${t.deviceMatchWarning}</div>
<ul class="facts">
${view.user ? html`<li><span class="label">${t.signedInAs}</span> <span><strong>${view.user.name}</strong> <span class="muted">(${view.user.username})</span></span></li>` : html`<li><span class="label">${t.signedInAs}</span> <span class="muted">${t.deviceSignInNext}</span></li>`}
${view.device.ip ? html`<li><span class="label">${t.deviceFrom}</span> <code>${view.device.ip}</code></li>` : ''}
${view.device.userAgent ? html`<li><span class="label">${t.deviceAgent}</span> <span class="muted">${view.device.userAgent}</span></li>` : ''}
</ul>
<h2>${t.deviceWants}</h2>
<ul class="scopes">${view.scopes.map(scopeItem)}</ul>
<form method="post" action="${view.action}" id="device-allow">
<input type="hidden" name="xsrf" value="${view.xsrf}">
<input type="hidden" name="user_code" value="${view.userCode}">
<input type="hidden" name="confirm" value="yes">
</form>
<div class="actions">
<button type="submit" form="device-allow" class="primary">${t.allow}</button>
<form method="post" action="${view.action}"><input type="hidden" name="xsrf" value="${view.xsrf}"><input type="hidden" name="user_code" value="${view.userCode}"><input type="hidden" name="abort" value="yes"><button type="submit" class="secondary">${t.deny}</button></form>
</div>
`;
  return page({ lang: view.lang, switchHref: view.switchHref, title: t.deviceConfirmTitle, body });
}

export function deviceDonePage(view: PageLanguage & { readonly clientName: string }): string {
  const t = MESSAGES[view.lang];
  const body = html`
<h1>${t.deviceDoneTitle}</h1>
<div class="notice ok" role="status"><span class="client">${view.clientName}</span> ${t.deviceDoneText}</div>
<p class="muted">${t.deviceDoneClose}</p>
`;
  return page({ lang: view.lang, switchHref: view.switchHref, title: t.deviceDoneTitle, body });
}
