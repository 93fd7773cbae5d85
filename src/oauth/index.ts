/**
 * The built-in OAuth 2.1 authorization server, assembled: oidc-provider (`provider.ts`) with our
 * storage adapter, signing keys from storage, the login/consent/account pages, both discovery
 * documents, and the registration limits — plus what the resource server and tools need in process
 * (token minting, grant listing and revocation, the public verification keys).
 *
 * Route map (all relative to the issuer = the base URL):
 *   /.well-known/openid-configuration          oidc-provider's discovery document
 *   /.well-known/oauth-authorization-server    the same document (RFC 8414; MCP clients look here first)
 *   /oauth/…                                    protocol endpoints (routes.ts); former paths → 308
 *   /device                                     device flow: enter the code, confirm (RFC 8628)
 *   /interaction/:uid                           login and consent
 *   /upstream/callback                          back from an upstream OpenID provider (federation/)
 *   /account                                    the user's authorized apps
 *   /static/sekisho.css                         the pages' stylesheet
 */
import type { RequestListener } from 'node:http';
import type { Request, RequestHandler, Response, Router } from 'express';
import { Router as createRouter } from 'express';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Audit } from '../audit/audit.ts';
import type { Config } from '../config/config.ts';
import { mcpResourceUrl } from '../config/config.ts';
import { createFederation, UPSTREAM_CALLBACK_PATH } from '../federation/index.ts';
import { DEMO_USERS } from '../identity/demo.ts';
import type { Identity } from '../identity/users.ts';
import type { Logger } from '../observability/logger.ts';
import { secondsUntilWindowEnds } from '../storage/rate-window.ts';
import type { ReplayCache, Storage } from '../storage/types.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { accountRoutes } from './account-routes.ts';
import { adminRoutes } from './admin-routes.ts';
import { MAX_METADATA_BYTES } from './clients.ts';
import { createGrantService, type GrantFilter, type GrantInfo, type Revoker } from './grants.ts';
import { clientDisplayName, clientIp, type PageDeps, sendError } from './interactions/context.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { finishUpstreamSignIn } from './interactions/upstream.ts';
import { createIssuer, type IssueAccessTokenInput, type IssuedAccessToken } from './issue.ts';
import { effectiveOverlapSeconds, loadSigningKeys, type SigningKeys } from './keys.ts';
import { pageCookies, rememberLanguage } from './page-cookies.ts';
import { stylesheetRoute } from './page-http.ts';
import { createProvider } from './provider.ts';
import {
  ACCOUNT_PATH,
  ADMIN_PATH,
  AUTHORIZATION_SERVER_METADATA_PATH,
  DEVICE_PATH,
  FORMER_ROUTES,
  INTERACTION_PREFIX,
  OAUTH_PREFIX,
  OAUTH_ROUTES,
  type OAuthEndpoints,
  OPENID_CONFIGURATION_PATH,
  oauthEndpoints,
  STYLESHEET_PATH,
} from './routes.ts';
import { createScopePolicy } from './scope-policy.ts';
import { deriveSecrets } from './secrets.ts';

export type { GrantFilter, GrantInfo } from './grants.ts';
export type { IssueAccessTokenInput, IssuedAccessToken } from './issue.ts';

export interface AuthorizationServerDeps {
  readonly config: Config;
  readonly storage: Storage;
  readonly identity: Identity;
  readonly registry: Pick<ToolRegistry, 'scopes' | 'basicScopes'>;
  readonly logger: Logger;
  /** The audit log's one emit point (audit/audit.ts). */
  readonly audit: Audit;
  /** One-time values (device polls, DPoP proof ids, ID-JAG ids); shared across instances when Redis is. */
  readonly replay: ReplayCache;
}

export interface AuthorizationServer {
  /** The issuer identifier: the base URL, exactly. */
  readonly issuer: string;
  /** The one RFC 8707 resource (`<base>/mcp`): the `aud` of every access token. */
  readonly resource: string;
  readonly endpoints: OAuthEndpoints;
  /** Mount at the root of the Express app, before /mcp (it never touches /mcp). */
  readonly router: Router;
  /**
   * oidc-provider's own request handler, of the provider serving now (a key rotation builds a new
   * one): the OAuth API lane (`api-lane.ts`) hands it the token, introspection, revocation and JWKS
   * requests before Express.
   */
  readonly handleProtocolRequest: RequestListener;
  /**
   * The error page for browsers, with the pages' security headers: `http/errors.ts` answers every
   * error that escapes a route with it (a malformed path, an oversized form, a failure).
   */
  sendErrorPage(req: Request, res: Response, status: number, code: string, message: string): void;
  readonly provider: Provider;
  /** Public keys access tokens verify against (what /oauth/jwks publishes), in process. */
  readonly verificationKeys: { readonly keys: readonly JWK[] };
  /** The `kid` new tokens are signed with now. */
  readonly signingKid: string;
  /** DPoP nonce keys, active first (derived from the signing keys, so they follow a rotation). */
  dpopNonceKeys(): readonly Buffer[];
  /** Multi-round-trip `requestState` keys, active first (derived like the DPoP nonce keys). */
  requestStateKeys(): readonly Buffer[];
  /**
   * Re-reads the signing keys from storage; when they changed (a rotation by the CLI or another
   * instance), new tokens are signed with the new active key from the next request on. True if so.
   */
  reloadKeys(): Promise<boolean>;
  issueAccessToken(input: IssueAccessTokenInput): Promise<IssuedAccessToken>;
  listGrants(filter?: GrantFilter): Promise<GrantInfo[]>;
  /** Deletes the grant and every token and code issued under it. False if it did not exist. */
  revokeGrant(grantId: string, by?: Revoker): Promise<boolean>;
  /** The resource server asked this grant's client to step up to `scopes` (see `step-up.ts`). */
  noteStepUp(grantId: string, scopes: readonly string[]): Promise<void>;
}

export async function createAuthorizationServer(deps: AuthorizationServerDeps): Promise<AuthorizationServer> {
  const { config, storage, identity, logger, audit } = deps;
  const resource = mcpResourceUrl(config);
  const overlapSeconds = effectiveOverlapSeconds(config);
  const policy = createScopePolicy(deps.registry);
  const grants = createGrantService({ storage, resource, audit });
  const federation = createFederation({
    config,
    storage,
    identity,
    logger,
    audit,
    cookies: pageCookies(config),
  });

  /**
   * Everything that depends on the signing keys: oidc-provider takes its JWKS and cookie keys at
   * construction only, and the cookie/CSRF secrets are derived from the keys. A key rotation therefore
   * builds a new provider and pages; requests already inside the old one finish there. Sessions,
   * interactions and grants live in storage, so nothing a user is in the middle of is lost.
   */
  const build = (keys: SigningKeys) => {
    const secrets = deriveSecrets(keys.jwks);
    const provider = createProvider({
      config,
      storage,
      identity,
      policy,
      grants,
      logger,
      audit,
      replay: deps.replay,
      upstreamVerdict: federation ? (userId) => federation.provisioning.rejudge(userId) : undefined,
      clientName: (clientId) => clientDisplayName(storage, clientId),
      jwks: keys.jwks,
      cookieKeys: secrets.cookieKeys,
      dpopNonceSecret: secrets.dpopNonceKeys[0]!,
    });
    const pages: PageDeps = {
      config,
      provider,
      storage,
      identity,
      policy,
      grants,
      secrets,
      logger,
      audit,
      demoAccounts: config.demo
        ? DEMO_USERS.map((u) => ({ username: u.username, password: u.password, role: u.role }))
        : [],
      federation,
    };
    const callback = provider.callback();
    const router = createRouter();
    router.use(providerPassThrough(callback));
    router.use(INTERACTION_PREFIX, interactionRoutes(pages));
    router.use(ACCOUNT_PATH, accountRoutes(pages));
    router.use(ADMIN_PATH, adminRoutes(pages));
    if (federation) router.get(UPSTREAM_CALLBACK_PATH, (req, res) => finishUpstreamSignIn(pages, req, res));
    return {
      keys,
      secrets,
      fingerprint: keySetFingerprint(keys),
      provider,
      callback,
      router,
      issue: createIssuer({ provider, config, identity, policy, audit }),
    };
  };
  let current = build(await loadSigningKeys(storage, { overlapSeconds }));

  let reloading: Promise<boolean> = Promise.resolve(false);
  const reloadKeys = () => {
    // One reload at a time; a request arriving during one waits for it and then checks again.
    reloading = reloading.then(async () => {
      const keys = await loadSigningKeys(storage, { overlapSeconds });
      if (keySetFingerprint(keys) === current.fingerprint) return false;
      const previous = current.keys.active.kid;
      current = build(keys);
      logger.info({ kid: keys.active.kid, previousKid: previous }, 'signing keys reloaded');
      return true;
    });
    const result = reloading;
    reloading = reloading.catch(() => false);
    return result;
  };

  const router = createRouter();
  router.get(STYLESHEET_PATH, stylesheetRoute());
  for (const [former, current] of Object.entries(FORMER_ROUTES)) router.all(former, redirectTo(current));
  router.all(OAUTH_ROUTES.registration, registrationCors());
  router.post(OAUTH_ROUTES.registration, registrationLimits(config, storage));
  router.use(
    [INTERACTION_PREFIX, ACCOUNT_PATH, ADMIN_PATH, OAUTH_ROUTES.authorization, UPSTREAM_CALLBACK_PATH],
    rememberLanguage(config),
  );
  router.use((req, res, next) => current.router(req, res, next));

  return {
    issuer: config.baseUrl,
    resource,
    endpoints: oauthEndpoints(config.baseUrl),
    router,
    handleProtocolRequest: (req, res) => void current.callback(req, res),
    sendErrorPage: (req, res, status, code, message) => sendError(req, res, status, code, message),
    get provider() {
      return current.provider;
    },
    get verificationKeys() {
      return current.keys.publicJwks;
    },
    get signingKid() {
      return current.keys.active.kid;
    },
    dpopNonceKeys: () => current.secrets.dpopNonceKeys,
    requestStateKeys: () => current.secrets.requestStateKeys,
    reloadKeys,
    issueAccessToken: (input) => current.issue(input),
    listGrants: (filter) => grants.listGrants(filter),
    revokeGrant: (grantId, by = IN_PROCESS) => grants.revokeGrant(grantId, by),
    noteStepUp: (grantId, scopes) => grants.noteStepUp(grantId, scopes),
  };
}

const IN_PROCESS: Revoker = { actor: { kind: 'system' }, by: 'api' };

/** Which keys, in which order and state: equal fingerprints mean nothing to rebuild. */
function keySetFingerprint(keys: SigningKeys): string {
  return keys.jwks.keys.map((k) => k.kid).join(',');
}

/**
 * Hands oidc-provider its own paths: /oauth/… and both discovery documents (it serves RFC 8414's
 * /.well-known/oauth-authorization-server itself, the same document as OpenID Discovery). It parses
 * its own request bodies, so nothing in front of it may (no express.json here).
 */
const RESUME_PREFIX = `${OAUTH_ROUTES.authorization}/`;

function providerPassThrough(callback: ReturnType<Provider['callback']>): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    if (
      path.startsWith(OAUTH_PREFIX) ||
      path === DEVICE_PATH ||
      path.startsWith(`${DEVICE_PATH}/`) ||
      path === OPENID_CONFIGURATION_PATH ||
      path === AUTHORIZATION_SERVER_METADATA_PATH
    ) {
      // oidc-provider's router decodes path parameters (`/oauth/auth/:uid`, `/oauth/reg/:clientId`)
      // and answers a malformed escape with a plain-text 500 and an error log line. Refuse the path
      // here instead: the URIError reaches http/errors.ts, which answers 400 (HTML for browsers).
      try {
        decodeURIComponent(path);
      } catch (err) {
        return next(err);
      }
      // The resume step (`/oauth/authorize/:uid`) reads the interaction, never the query: the
      // provider builds its URL without one. Given one anyway, a failed resume took the query's
      // `client_id` for the client and oidc-provider's error handler then crashed on the missing
      // request parameters (a 500, found by the fuzzer); without it the failure is the 400 page.
      if (path.startsWith(RESUME_PREFIX) && req.url.includes('?')) req.url = req.url.split('?')[0]!;
      return void callback(req, res);
    }
    next();
  };
}

/** 308 keeps the method and body (RFC 9110 §15.4.9), so a POST to a former path still registers. */
function redirectTo(path: string): RequestHandler {
  return (req, res) => {
    const q = req.originalUrl.indexOf('?');
    res.redirect(308, q === -1 ? path : `${path}${req.originalUrl.slice(q)}`);
  };
}

/**
 * CORS for registration, which oidc-provider leaves out (its token, revocation, introspection and
 * discovery endpoints already answer CORS): browser-based MCP clients register from a web origin.
 * No credentials are involved, so any origin may call it.
 */
function registrationCors(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
    res.setHeader('Access-Control-Max-Age', '3600');
    res.status(204).end();
  };
}

/** RFC 7591 registration limits oidc-provider leaves to us: body size and registrations per IP. */
function registrationLimits(config: Config, storage: Storage): RequestHandler {
  const windowSeconds = 3600;
  return async (req, res, next) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_METADATA_BYTES) {
      res.status(413).json({
        error: 'invalid_client_metadata',
        error_description: `client metadata must not exceed ${MAX_METADATA_BYTES} bytes`,
      });
      return;
    }
    const count = await storage.hit(`register:ip:${clientIp(req)}`, windowSeconds);
    if (count > config.registrationsPerHour) {
      res.setHeader('Retry-After', String(secondsUntilWindowEnds(windowSeconds, Date.now())));
      res.setHeader('Cache-Control', 'no-store');
      res.status(429).json({
        error: 'temporarily_unavailable',
        error_description: 'too many client registrations from this address; retry later',
      });
      return;
    }
    next();
  };
}
