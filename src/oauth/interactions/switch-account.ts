/**
 * "Not you? Use another account" on the consent page: sign this browser out and start the very same
 * authorization request again at the sign-in page.
 *
 * oidc-provider has no "switch account" result for an interaction: finishing one with a different
 * account sends the browser to its end-session confirmation (a feature this server has off), and an
 * interaction whose session is gone fails its resume with "session mismatch". So the clean restart
 * is the one a client would make itself: end the browser's session (and the account page's), throw
 * this interaction away, and send the browser back to the authorization endpoint with the request's
 * own parameters — which oidc-provider validates again from scratch — plus `prompt=login`, so the
 * sign-in page is shown even if another tab signed in meanwhile. The client sees nothing of it: the
 * same `state`, PKCE challenge, redirect URI, resource and `ui_locales` go through.
 */
import type { Request, Response } from 'express';
import type { Interaction } from 'oidc-provider';
import { pageCookies } from '../page-cookies.ts';
import { OAUTH_ROUTES } from '../routes.ts';
import type { PageDeps } from './context.ts';

export async function switchAccount(
  deps: PageDeps,
  req: Request,
  res: Response,
  interaction: Interaction,
): Promise<void> {
  const { provider, config } = deps;
  const session = await provider.Session.get(provider.createContext(req, res));
  const accountId = session.accountId;
  if (accountId) await session.destroy();
  const cookies = pageCookies(config);
  cookies.set(res, cookies.account, '', 0);
  await interaction.destroy();
  deps.logger.info(
    { accountId, clientId: interaction.params.client_id },
    'signed out to use another account',
  );
  res.redirect(303, restartUrl(config.baseUrl, interaction.params));
}

/** The authorization request again, from its stored parameters, asking for the sign-in page. */
export function restartUrl(baseUrl: string, params: Record<string, unknown>): string {
  const url = new URL(`${baseUrl}${OAUTH_ROUTES.authorization}`);
  for (const [name, value] of Object.entries(params)) {
    if (name === 'prompt') continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'string') url.searchParams.append(name, v);
    }
  }
  const prompt = new Set(
    String(params.prompt ?? '')
      .split(' ')
      .filter(Boolean),
  );
  prompt.delete('none');
  prompt.add('login');
  url.searchParams.set('prompt', [...prompt].join(' '));
  return url.href;
}
