/**
 * Express routes for oidc-provider's user interactions (`interactions.url` = /interaction/:uid).
 * oidc-provider binds each interaction to the browser with its interaction cookie and checks it in
 * `interactionDetails`; every form additionally carries a CSRF token bound to the interaction id.
 */
import express, { type Request, type Response, Router } from 'express';
import type { Interaction } from 'oidc-provider';
import { displayText } from '../../ui/display-text.ts';
import { CONSENT_CSRF, showConsent, submitConsent } from './consent.ts';
import { checkCsrf, clientDisplayName, type PageDeps, sendError } from './context.ts';
import { LOGIN_CSRF, showLogin, submitLogin } from './login.ts';
import { switchAccount } from './switch-account.ts';
import { startUpstreamSignIn } from './upstream.ts';

const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

export function interactionRoutes(deps: PageDeps): Router {
  const router = Router();

  /** Loads the interaction this browser is in; answers with an error page when there is none. */
  async function load(req: Request, res: Response): Promise<Interaction | undefined> {
    try {
      const interaction = await deps.provider.interactionDetails(req, res);
      if (interaction.uid === req.params.uid) return interaction;
    } catch (err) {
      deps.logger.debug({ err }, 'interaction not found');
    }
    sendError(req, res, 400, 'session_not_found');
    return undefined;
  }

  /**
   * The name shown on the pages. A metadata-document client (https client_id) shows its document's
   * name next to its host — the one part of it that is verified (the document was fetched from it).
   */
  async function clientName(interaction: Interaction): Promise<string> {
    const clientId = String(interaction.params.client_id);
    const url = URL.parse(clientId);
    if (url?.protocol !== 'https:') return clientDisplayName(deps.storage, clientId);
    const client = await deps.provider.Client.find(clientId).catch(() => undefined);
    const name = client?.clientName ? displayText(client.clientName) : '';
    return name ? `${name} (${url.host})` : url.host;
  }

  router.get('/:uid', async (req, res) => {
    const interaction = await load(req, res);
    if (!interaction) return;
    const name = await clientName(interaction);
    if (interaction.prompt.name === 'login') return showLogin(deps, req, res, interaction, name);
    if (interaction.prompt.name === 'consent') return showConsent(deps, req, res, interaction, name);
    sendError(req, res, 400, 'invalid_request', `unsupported interaction: ${interaction.prompt.name}`);
  });

  router.post('/:uid/login', form, async (req, res) => {
    const interaction = await load(req, res);
    if (!interaction) return;
    if (interaction.prompt.name !== 'login') {
      if (!checkCsrf(deps, req, res, LOGIN_CSRF, interaction.uid)) return;
      return sendError(req, res, 400, 'session_not_found');
    }
    await submitLogin(deps, req, res, interaction, await clientName(interaction));
  });

  // "Sign in with <provider>" on the login page.
  router.post('/:uid/upstream/:provider', form, async (req, res) => {
    const interaction = await load(req, res);
    if (!interaction) return;
    if (!checkCsrf(deps, req, res, LOGIN_CSRF, interaction.uid)) return;
    if (interaction.prompt.name !== 'login') return sendError(req, res, 400, 'session_not_found');
    await startUpstreamSignIn(deps, req, res, interaction);
  });

  router.post('/:uid/consent', form, async (req, res) => {
    const interaction = await load(req, res);
    if (!interaction) return;
    if (interaction.prompt.name !== 'consent') {
      return sendError(req, res, 400, 'session_not_found');
    }
    await submitConsent(deps, req, res, interaction);
  });

  // "Not you? Use another account" on the consent page.
  router.post('/:uid/switch-account', form, async (req, res) => {
    const interaction = await load(req, res);
    if (!interaction) return;
    if (!checkCsrf(deps, req, res, CONSENT_CSRF, interaction.uid)) return;
    await switchAccount(deps, req, res, interaction);
  });

  // Cancel on the login page and Deny on the consent page: the client gets access_denied.
  router.post('/:uid/abort', form, async (req, res) => {
    const interaction = await load(req, res);
    if (!interaction) return;
    const purpose = interaction.prompt.name === 'login' ? LOGIN_CSRF : CONSENT_CSRF;
    if (!checkCsrf(deps, req, res, purpose, interaction.uid)) return;
    if (interaction.prompt.name === 'consent') {
      const userId = interaction.session?.accountId;
      await deps.audit.record({
        type: 'consent.denied',
        outcome: 'failure',
        actor: userId ? { kind: 'user', id: userId } : { kind: 'user' },
        userId,
        clientId: String(interaction.params.client_id),
        details: {
          scope: typeof interaction.params.scope === 'string' ? interaction.params.scope : undefined,
        },
      });
    }
    await deps.provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'The user denied the request.' },
      { mergeWithLastSubmission: false },
    );
  });

  return router;
}
