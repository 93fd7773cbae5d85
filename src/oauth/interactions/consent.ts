/**
 * The "consent" prompt. What is granted is decided here, once, by `scope-policy.ts`: the requested
 * MCP scopes the user's role allows (the rest are recorded as rejected so the question is not asked
 * again), the basic set when none of the requested ones is allowed, and requested OpenID scopes.
 * "Remember my decision" marks the grant so later requests of this client reuse it silently.
 *
 * A step-up the resource server asked of this client moments ago (`grants.pendingStepUp`) is part of
 * the question: some clients re-authorize after a 403 with the scope they first asked for, not the
 * challenged one (the MCP Inspector 2.12 CLI), and would loop. RFC 6749 §3.3 lets the server grant
 * other than what was asked on the user's instruction; the consent page lists the added scopes and
 * the request is widened to name them, so the token response's `scope` says what was granted.
 */
import type { Request, Response } from 'express';
import type { Interaction } from 'oidc-provider';
import { mcpResourceUrl } from '../../config/config.ts';
import { consentPage } from '../../ui/pages/consent.ts';
import { clientBranding } from '../client-branding.ts';
import { formTargetSource, sendPage } from '../page-http.ts';
import { INTERACTION_PREFIX } from '../routes.ts';
import { split } from '../scope-policy.ts';
import { checkCsrf, langOf, type PageDeps, sendError, switchHref } from './context.ts';

export const CONSENT_CSRF = 'interaction-consent';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function showConsent(
  deps: PageDeps,
  req: Request,
  res: Response,
  interaction: Interaction,
  clientName: string,
): Promise<void> {
  const lang = langOf(req, interaction.params.ui_locales);
  const user = interaction.session ? await deps.identity.findById(interaction.session.accountId) : undefined;
  if (!user) {
    sendError(req, res, 400, 'login_required');
    return;
  }
  const decision = deps.policy.decide(await scopeToAsk(deps, interaction, user.id), user.role);
  // A device-flow request has no redirect URI: the answer goes to the device that showed the code.
  const redirectUri = String(interaction.params.redirect_uri ?? '');
  const redirect = redirectUri ? URL.parse(redirectUri) : null;
  const base = `${INTERACTION_PREFIX}/${interaction.uid}`;
  const client = await deps.provider.Client.find(String(interaction.params.client_id)).catch(() => undefined);
  const branding = clientBranding({
    clientId: String(interaction.params.client_id),
    clientUri: client?.clientUri,
    logoUri: client?.logoUri,
    redirectUris: client?.redirectUris,
  });
  const document = consentPage({
    lang,
    switchHref: switchHref(req, lang),
    action: `${base}/consent`,
    denyAction: `${base}/abort`,
    switchAccountAction: `${base}/switch-account`,
    csrf: deps.secrets.csrfToken(CONSENT_CSRF, interaction.uid),
    clientName,
    selfAsserted: true,
    websiteHost: branding.websiteHost,
    logoUrl: branding.logoUrl,
    redirectHost: redirectUri ? (redirect ? redirect.host || redirect.protocol : redirectUri) : undefined,
    localhostOnly: redirect !== null && LOOPBACK.has(redirect.hostname),
    user: { name: user.name, username: user.username },
    scopes: [...decision.granted, ...decision.oidc.filter((s) => s !== 'openid')],
    withheld: decision.withheld,
  });
  const target = formTargetSource(redirectUri);
  sendPage(res, 200, document, {
    lang,
    formTargets: target ? [target] : [],
    imageSources: branding.logoOrigin ? [branding.logoOrigin] : [],
  });
}

export async function submitConsent(
  deps: PageDeps,
  req: Request,
  res: Response,
  interaction: Interaction,
): Promise<void> {
  if (!checkCsrf(deps, req, res, CONSENT_CSRF, interaction.uid)) return;
  const { provider, identity, policy, grants, config } = deps;
  const accountId = interaction.session?.accountId;
  const user = accountId ? await identity.findById(accountId) : undefined;
  if (!user) {
    sendError(req, res, 400, 'login_required');
    return;
  }
  const resource = mcpResourceUrl(config);
  const requested = await scopeToAsk(deps, interaction, user.id);
  const decision = policy.decide(requested, user.role);
  const clientId = String(interaction.params.client_id);
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const before = new Set(existing ? split(existing.getResourceScope(resource)) : []);
  const grant = existing ?? new provider.Grant({ accountId: user.id, clientId });
  if (decision.oidc.length > 0) grant.addOIDCScope(decision.oidc.join(' '));
  grant.addResourceScope(resource, decision.granted.join(' '));
  if (decision.withheld.length > 0) grant.rejectResourceScope(resource, decision.withheld.join(' '));
  const grantId = await grant.save();
  await grants.settleStepUp({ accountId: user.id, clientId });
  // The latest answer counts: unticking it on a later consent stops the silent reuse.
  const remember = (req.body as Record<string, unknown> | undefined)?.remember === '1';
  await grants.setRemembered(grantId, remember);
  const widenedBy = decision.granted.filter((s) => !before.has(s));
  const subject = { actor: { kind: 'user', id: user.id }, userId: user.id, clientId, grantId } as const;
  await deps.audit.record({
    type: 'consent.granted',
    ...subject,
    details: { scopes: decision.granted, withheld: decision.withheld, remember },
  });
  // A consent on an existing grant that adds scopes is a step-up (the resource asked for more).
  if (!existing)
    await deps.audit.record({ type: 'grant.issued', ...subject, details: { scopes: decision.granted } });
  else if (widenedBy.length > 0) {
    await deps.audit.record({
      type: 'grant.widened',
      ...subject,
      details: { added: widenedBy, scopes: decision.granted },
    });
  }

  // oidc-provider issues the intersection of request and grant, so the request must name whatever
  // the grant adds: the basic set when nothing asked for was allowed, or a pending step-up.
  const original = split(interaction.params.scope as string | undefined);
  const added = new Set([...split(requested), ...decision.granted].filter((s) => !original.includes(s)));
  if (added.size > 0) {
    interaction.params.scope = [...original, ...added].join(' ');
    await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
  }
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

/** The request's scope, plus the scopes of a step-up pending for this user and client. */
async function scopeToAsk(deps: PageDeps, interaction: Interaction, accountId: string): Promise<string> {
  const requested = split(interaction.params.scope as string | undefined);
  const clientId = String(interaction.params.client_id);
  const pending = await deps.grants.pendingStepUp({ accountId, clientId });
  return [...new Set([...requested, ...pending])].join(' ');
}
