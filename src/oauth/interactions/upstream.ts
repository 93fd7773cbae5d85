/**
 * "Sign in with <provider>": the login page's buttons post here (CSRF-checked like the password
 * form), the browser goes to the provider with a fresh round trip (federation/round-trip.ts), and
 * comes back to the callback, which verifies the answer (federation/upstream-client.ts), finds or
 * makes the local user (federation/provisioning.ts) and finishes the interaction as a password
 * sign-in would. Failures are `HttpError`s answered by http/errors.ts with the error page.
 */
import type { Request, Response } from 'express';
import type { Interaction } from 'oidc-provider';
import type { Federation } from '../../federation/index.ts';
import { HttpError } from '../../http/errors.ts';
import type { PageDeps } from './context.ts';

const epochSeconds = () => Math.floor(Date.now() / 1000);

export function federationOf(deps: PageDeps): Federation {
  if (!deps.federation) throw new HttpError(404, 'invalid_request', 'No identity provider is configured.');
  return deps.federation;
}

/** POST /interaction/:uid/upstream/:provider — CSRF already checked by the caller. */
export async function startUpstreamSignIn(
  deps: PageDeps,
  req: Request,
  res: Response,
  interaction: Interaction,
): Promise<void> {
  const federation = federationOf(deps);
  const client = federation.client(String(req.params.provider));
  const { url, secrets } = await client.begin(federation.callbackUrl);
  await federation.roundTrips.start(
    req,
    res,
    { providerId: client.provider.id, uid: interaction.uid, secrets },
    interaction.exp - epochSeconds(),
  );
  deps.logger.debug({ provider: client.provider.id }, 'upstream sign-in started');
  res.redirect(303, url.href);
}

/** GET /upstream/callback — the provider's authorization response. */
export async function finishUpstreamSignIn(deps: PageDeps, req: Request, res: Response): Promise<void> {
  const federation = federationOf(deps);
  const state = typeof req.query.state === 'string' ? req.query.state : undefined;
  // Refused unless this browser started this very round trip, once, recently.
  const pending = await federation.roundTrips.take(req, state);
  const client = federation.client(pending.providerId);
  // Our own redirect URI with the provider's query: never built from the Host header.
  const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
  const callbackUrl = new URL(`${federation.callbackUrl}${query}`);
  const claims = await client.finish(callbackUrl, pending.secrets);
  const user = await federation.provisioning.signIn(client.provider, claims);

  const interaction = await deps.provider.Interaction.find(pending.uid);
  if (interaction?.prompt.name !== 'login') {
    throw new HttpError(400, 'session_not_found', 'The sign-in took too long or was already finished.');
  }
  // As interactionFinished would, without the interaction cookie (path-scoped to /interaction/:uid):
  // the resume step still demands oidc-provider's resume cookie, so only the browser that started
  // the authorization request can continue it.
  interaction.result = { login: { accountId: user.id, remember: true, amr: ['fed'] } };
  await interaction.save(Math.max(1, interaction.exp - epochSeconds()));
  res.redirect(303, interaction.returnTo);
}
