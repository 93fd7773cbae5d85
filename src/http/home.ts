/**
 * `GET /`: the seed's "Server info", done properly — HTML for a browser, the same facts as JSON for
 * `Accept: application/json`. Everything is derived (endpoints from `oauth/routes.ts`, tools and their
 * access from the registry, client steps from `client-setup.ts`); nothing here is a second copy.
 */
import type { RequestHandler } from 'express';
import { type Config, mcpResourceUrl } from '../config/config.ts';
import { SERVER_INFO } from '../mcp/server-factory.ts';
import { sendPage } from '../oauth/page-http.ts';
import { oauthEndpoints } from '../oauth/routes.ts';
import { resourceMetadataUrl } from '../resource/metadata.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { isLang, pickLanguage } from '../ui/i18n.ts';
import { type HomeInfo, homePage } from '../ui/pages/home.ts';
import { clientSetups } from './client-setup.ts';

export function homeInfo(config: Config, registry: Pick<ToolRegistry, 'tools'>): HomeInfo {
  const e = oauthEndpoints(config.baseUrl);
  const mcpUrl = mcpResourceUrl(config);
  return {
    name: SERVER_INFO.title,
    version: SERVER_INFO.version,
    mcp: { url: mcpUrl, transport: 'streamable-http' },
    authorization: {
      issuer: e.issuer,
      metadata: {
        protected_resource_metadata: resourceMetadataUrl(config),
        authorization_server_metadata: e.authorizationServerMetadata,
        openid_configuration: e.openidConfiguration,
      },
      endpoints: {
        authorization_endpoint: e.authorization,
        token_endpoint: e.token,
        registration_endpoint: e.registration,
        userinfo_endpoint: e.userinfo,
        revocation_endpoint: e.revocation,
        introspection_endpoint: e.introspection,
        jwks_uri: e.jwks,
      },
    },
    account: e.account,
    mode: { demo: config.demo, anonymous: config.anonymous },
    tools: registry.tools.map((t) => ({
      name: t.name,
      title: t.title,
      access: t.access.kind === 'public' ? 'public' : t.access.role === 'admin' ? 'admin' : 'signed-in',
    })),
    clients: clientSetups(mcpUrl),
  };
}

export function homeRoute(config: Config, registry: Pick<ToolRegistry, 'tools'>): RequestHandler {
  const info = homeInfo(config, registry);
  const body = JSON.stringify(info);
  return (req, res) => {
    res.vary('Accept');
    if (req.accepts(['html', 'json']) === 'json') {
      res.setHeader('Cache-Control', 'no-store');
      res.type('application/json').send(body);
      return;
    }
    // ?lang= (the pages' language switch) wins over Accept-Language.
    const lang = isLang(req.query.lang) ? req.query.lang : pickLanguage(req.get('accept-language'));
    sendPage(res, 200, homePage(info, lang), { lang });
  };
}
