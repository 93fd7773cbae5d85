/**
 * Where the authorization server lives. oidc-provider serves the protocol endpoints under one
 * prefix; our own pages (interactions, account) and both discovery documents sit beside it. Every
 * other module (the `oauth_info` tool, tests, docs) takes paths from here instead of spelling them.
 */

/**
 * Protocol endpoints, relative to the issuer (oidc-provider `routes`). The four the seed named
 * (`/oauth/authorize`, `/oauth/token`, `/oauth/register`, `/oauth/userinfo`) are the AS's own, so the
 * seed's readers find them where its banner and code said; clients find all of them in the metadata.
 */
export const OAUTH_ROUTES = Object.freeze({
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  registration: '/oauth/register',
  revocation: '/oauth/token/revocation',
  introspection: '/oauth/token/introspection',
  jwks: '/oauth/jwks',
  userinfo: '/oauth/userinfo',
  end_session: '/oauth/session/end',
  device_authorization: '/oauth/device/auth',
  // Where users type the code their device shows (RFC 8628 `verification_uri`): short, to be typed.
  code_verification: '/device',
  // oidc-provider requires these names even though the features behind them are off.
  backchannel_authentication: '/oauth/backchannel',
  pushed_authorization_request: '/oauth/par',
  challenge: '/oauth/challenge',
  credential: '/oauth/credential',
});

/**
 * Paths of earlier Sekisho versions, answered with a 308 to today's (method and body kept): a client
 * that cached the old metadata (MCP Inspector keeps it in the browser) goes on working.
 */
export const FORMER_ROUTES: Readonly<Record<string, string>> = Object.freeze({
  '/oauth/auth': OAUTH_ROUTES.authorization,
  '/oauth/reg': OAUTH_ROUTES.registration,
  '/oauth/me': OAUTH_ROUTES.userinfo,
});

/** Everything oidc-provider answers starts with this (plus its discovery document). */
export const OAUTH_PREFIX = '/oauth/';

/** OpenID Connect Discovery 1.0 — oidc-provider's own document. */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
/** RFC 8414 — the same document, where MCP clients look first. */
export const AUTHORIZATION_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server';

/** The device flow's verification page (served by oidc-provider, rendered by us). */
export const DEVICE_PATH = OAUTH_ROUTES.code_verification;

/** Login and consent pages (oidc-provider `interactions.url`). */
export const INTERACTION_PREFIX = '/interaction';
/** The signed-in user's list of authorized apps. */
export const ACCOUNT_PATH = '/account';
/** The admin console (role admin), on the account page's sign-in. */
export const ADMIN_PATH = '/admin';
/** The one stylesheet every page links (defined beside the pages, which link it). */
export { STYLESHEET_PATH } from '../ui/stylesheet.ts';

export interface OAuthEndpoints {
  readonly issuer: string;
  readonly authorization: string;
  readonly token: string;
  readonly registration: string;
  readonly revocation: string;
  readonly introspection: string;
  readonly userinfo: string;
  readonly jwks: string;
  readonly deviceAuthorization: string;
  readonly deviceVerification: string;
  readonly authorizationServerMetadata: string;
  readonly openidConfiguration: string;
  readonly account: string;
}

/** Absolute endpoint URLs for an issuer (the configured base URL, no trailing slash). */
export function oauthEndpoints(issuer: string): OAuthEndpoints {
  return Object.freeze({
    issuer,
    authorization: `${issuer}${OAUTH_ROUTES.authorization}`,
    token: `${issuer}${OAUTH_ROUTES.token}`,
    registration: `${issuer}${OAUTH_ROUTES.registration}`,
    revocation: `${issuer}${OAUTH_ROUTES.revocation}`,
    introspection: `${issuer}${OAUTH_ROUTES.introspection}`,
    userinfo: `${issuer}${OAUTH_ROUTES.userinfo}`,
    jwks: `${issuer}${OAUTH_ROUTES.jwks}`,
    deviceAuthorization: `${issuer}${OAUTH_ROUTES.device_authorization}`,
    deviceVerification: `${issuer}${OAUTH_ROUTES.code_verification}`,
    authorizationServerMetadata: `${issuer}${AUTHORIZATION_SERVER_METADATA_PATH}`,
    openidConfiguration: `${issuer}${OPENID_CONFIGURATION_PATH}`,
    account: `${issuer}${ACCOUNT_PATH}`,
  });
}
