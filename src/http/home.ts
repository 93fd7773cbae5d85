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
import type { ExternalServerMetadata } from '../resource/external/index.ts';
import { resourceMetadataUrl } from '../resource/metadata.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { isLang, pickLanguage } from '../ui/i18n.ts';
import { type HomeInfo, homePage } from '../ui/pages/home.ts';
import { clientSetups } from './client-setup.ts';

/** Resource-server-only mode: the external authorization server, as the home page and tools show it. */
export interface ExternalAuthorizationInfo {
  readonly issuer: string;
  readonly metadataUrl: string;
  /** Its endpoints by the names oauth_info uses for ours (issuer, authorization, token, …). */
  readonly endpoints: Readonly<Record<string, string>>;
}

export function externalAuthorizationInfo(metadata: ExternalServerMetadata): ExternalAuthorizationInfo {
  const named: Record<string, string | undefined> = {
    issuer: metadata.issuer,
    authorization: metadata.authorization_endpoint,
    token: metadata.token_endpoint,
    registration: metadata.registration_endpoint,
    revocation: metadata.revocation_endpoint,
    introspection: metadata.introspection_endpoint,
    userinfo: metadata.userinfo_endpoint,
    jwks: metadata.jwks_uri,
  };
  const endpoints = Object.fromEntries(
    Object.entries(named).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return { issuer: metadata.issuer, metadataUrl: metadata.metadataUrl, endpoints };
}

export function homeInfo(
  config: Config,
  registry: Pick<ToolRegistry, 'tools'>,
  external?: ExternalAuthorizationInfo,
): HomeInfo {
  const e = oauthEndpoints(config.baseUrl);
  const mcpUrl = mcpResourceUrl(config);
  return {
    name: SERVER_INFO.title,
    version: SERVER_INFO.version,
    mcp: { url: mcpUrl, transport: 'streamable-http' },
    authorization: external
      ? externalAuthorization(config, external)
      : {
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
    account: external ? undefined : e.account,
    mode: { demo: config.demo, anonymous: config.anonymous },
    tools: registry.tools.map((t) => ({
      name: t.name,
      title: t.title,
      access: t.access.kind === 'public' ? 'public' : t.access.role === 'admin' ? 'admin' : 'signed-in',
    })),
    clients: clientSetups(mcpUrl),
  };
}

function externalAuthorization(
  config: Config,
  external: ExternalAuthorizationInfo,
): HomeInfo['authorization'] {
  const { issuer, authorization, token, registration, revocation, introspection, userinfo, jwks } =
    external.endpoints;
  const endpoints = {
    authorization_endpoint: authorization,
    token_endpoint: token,
    registration_endpoint: registration,
    userinfo_endpoint: userinfo,
    revocation_endpoint: revocation,
    introspection_endpoint: introspection,
    jwks_uri: jwks,
  };
  return {
    issuer: issuer ?? external.issuer,
    metadata: {
      protected_resource_metadata: resourceMetadataUrl(config),
      authorization_server_metadata: external.metadataUrl,
    },
    endpoints: Object.fromEntries(
      Object.entries(endpoints).filter((e): e is [string, string] => e[1] !== undefined),
    ),
  };
}

export function homeRoute(
  config: Config,
  registry: Pick<ToolRegistry, 'tools'>,
  external?: ExternalAuthorizationInfo,
): RequestHandler {
  const info = homeInfo(config, registry, external);
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
