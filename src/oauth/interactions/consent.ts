/**
 * The "consent" prompt. What is granted is decided here, once, by `scope-policy.ts`: the requested
 * MCP scopes the user's role allows (the rest are recorded as rejected so the question is not asked
 * again), the basic set when none of the requested ones is allowed, and requested OpenID scopes.
 * "Remember my decision" marks the grant so later requests of this client reuse it silently.
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
  const decision = deps.policy.decide(interaction.params.scope as string | undefined, user.role);
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
  const requested = interaction.params.scope as string | undefined;
  const decision = policy.decide(requested, user.role);
  const clientId = String(interaction.params.client_id);
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId: user.id, clientId });
  if (decision.oidc.length > 0) grant.addOIDCScope(decision.oidc.join(' '));
  grant.addResourceScope(resource, decision.granted.join(' '));
  if (decision.withheld.length > 0) grant.rejectResourceScope(resource, decision.withheld.join(' '));
  const grantId = await grant.save();
  // The latest answer counts: unticking it on a later consent stops the silent reuse.
  await grants.setRemembered(grantId, (req.body as Record<string, unknown> | undefined)?.remember === '1');

  if (decision.defaulted) {
    // Nothing asked for was allowed: the basic set replaces it, so the request must name it too
    // (oidc-provider issues the intersection of request and grant).
    interaction.params.scope = [...split(requested), ...decision.granted].join(' ');
    await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
  }
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}
