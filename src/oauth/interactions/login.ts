/**
 * The "login" prompt: show the sign-in form, check the password through identity (which throttles
 * per username and per IP and never reveals whether a username exists), then hand the account id
 * back to oidc-provider, which continues the authorization request.
 */
import type { Request, Response } from 'express';
import type { Interaction } from 'oidc-provider';
import { HttpError } from '../../http/errors.ts';
import { type LoginProblem, loginPage } from '../../ui/pages/login.ts';
import { formTargetSource, sendPage } from '../page-http.ts';
import { INTERACTION_PREFIX } from '../routes.ts';
import {
  checkCsrf,
  clientIp,
  langOf,
  loginProblem,
  loginStatus,
  type PageDeps,
  switchHref,
} from './context.ts';

export const LOGIN_CSRF = 'interaction-login';

/** A password posted while SEKISHO_LOCAL_LOGIN=0 (the form is not even shown then). */
export function localLoginOff(): HttpError {
  return new HttpError(403, 'access_denied', 'Password sign-in is turned off on this server.');
}

export function showLogin(
  deps: PageDeps,
  req: Request,
  res: Response,
  interaction: Interaction,
  clientName: string,
  failure?: { problem: LoginProblem; username: string },
): void {
  const lang = langOf(req, interaction.params.ui_locales);
  const base = `${INTERACTION_PREFIX}/${interaction.uid}`;
  const status = loginStatus(res, failure?.problem);
  const document = loginPage({
    lang,
    switchHref: switchHref(req, lang),
    action: `${base}/login`,
    cancelAction: `${base}/abort`,
    csrf: deps.secrets.csrfToken(LOGIN_CSRF, interaction.uid),
    localLogin: deps.config.localLogin,
    upstreams: [...(deps.federation?.clients.values() ?? [])].map((c) => ({
      name: c.provider.name,
      action: `${base}/upstream/${c.provider.id}`,
    })),
    clientName,
    problem: failure?.problem,
    username: failure?.username,
    demoAccounts: deps.demoAccounts,
  });
  const target = formTargetSource(interaction.params.redirect_uri as string | undefined);
  // A "Sign in with …" form is answered by a redirect to the provider, which form-action covers.
  const upstreamOrigins = [...(deps.federation?.clients.values() ?? [])].flatMap((c) => c.formTargets());
  sendPage(res, status, document, { lang, formTargets: [...(target ? [target] : []), ...upstreamOrigins] });
}

export async function submitLogin(
  deps: PageDeps,
  req: Request,
  res: Response,
  interaction: Interaction,
  clientName: string,
): Promise<void> {
  if (!checkCsrf(deps, req, res, LOGIN_CSRF, interaction.uid)) return;
  if (!deps.config.localLogin) throw localLoginOff();
  const body = (req.body ?? {}) as Record<string, unknown>;
  const username = typeof body.username === 'string' ? body.username.slice(0, 128) : '';
  const password = typeof body.password === 'string' ? body.password : '';
  const result = await deps.identity.authenticate(username, password, clientIp(req));
  if (!result.ok) {
    showLogin(deps, req, res, interaction, clientName, { problem: loginProblem(result), username });
    return;
  }
  await deps.provider.interactionFinished(
    req,
    res,
    { login: { accountId: result.user.id, remember: true } },
    { mergeWithLastSubmission: false },
  );
}
