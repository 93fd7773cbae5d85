/**
 * The oidc-provider instance: OpenID-certified OAuth 2.x machinery, configured for MCP clients.
 * Every endpoint is oidc-provider's; what lives here is policy, each choice next to its reason:
 *
 *  - issuer = the configured base URL exactly (clients compare it character by character);
 *  - authorization code only (`responseTypes: ['code']`), PKCE S256 for every client, RFC 9207 `iss`
 *    on every authorization response (oidc-provider always adds it), no PAR/logout endpoints;
 *  - grants for agents and machines: the device flow (`device-flow.ts`), client credentials for
 *    operator-registered services (`client-credentials.ts`), the jwt-bearer grant with enterprise
 *    ID-JAG assertions (`id-jag/`); DPoP-bound tokens (RFC 9449) for clients that send a proof;
 *  - one resource (RFC 8707): the MCP endpoint. Tokens for it are RFC 9068 JWTs signed ES256 with
 *    `aud` = the MCP URL and `gid` = the grant id, so the resource server can check revocation;
 *  - refresh tokens for every client registered with the refresh_token grant, rotated on every use
 *    (reuse handling in `adapter.ts`); they do not die with the browser session; the one refresh
 *    that answers a pending step-up is refused so the client authorizes again (`step-up.ts`);
 *  - scopes: MCP scopes from the tool registry, downscoped to the user's role (`scope-policy.ts`).
 */
import Provider, {
  type Configuration,
  errors,
  type Grant,
  interactionPolicy,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { DPOP_ALGORITHMS } from '../access/dpop.ts';
import type { Role } from '../access/scopes.ts';
import type { Audit } from '../audit/audit.ts';
import type { Config } from '../config/config.ts';
import { mcpResourceUrl } from '../config/config.ts';
import type { Verdict } from '../federation/role-mapping.ts';
import type { Identity } from '../identity/users.ts';
import type { Logger } from '../observability/logger.ts';
import { noteForRequestLog } from '../observability/request-notes.ts';
import { StorageUnavailableError } from '../storage/errors.ts';
import type { ReplayCache, Storage } from '../storage/types.ts';
import { errorPage } from '../ui/pages/error.ts';
import { createAdapterFactory } from './adapter.ts';
import { createCimdPolicy } from './cimd.ts';
import { isClientCredentialsRequest, serviceResourceScope } from './client-credentials.ts';
import { BUILT_IN_CLIENTS, clientMetadataPolicy, extendClientModel } from './clients.ts';
import {
  DEVICE_CODE_TTL_SECONDS,
  deviceFlowFeature,
  deviceFlowMiddleware,
  enforceDevicePollInterval,
} from './device-flow.ts';
import { JWT_BEARER_GRANT, OPERATOR_ONLY_GRANTS } from './grant-types.ts';
import { type GrantService, stepUpScopes } from './grants.ts';
import { registerIdJagGrant } from './id-jag/grant.ts';
import { ID_JAG_GRANT_PROFILE } from './id-jag/verify.ts';
import { langOf, switchHref } from './interactions/context.ts';
import { setPageHeaders } from './page-http.ts';
import { INTERACTION_PREFIX, OAUTH_ROUTES } from './routes.ts';
import { OIDC_CLAIMS, OIDC_SCOPES, type ScopePolicy } from './scope-policy.ts';
import { rotateUnlessSteppingUp } from './step-up.ts';
import { createUseRecorder } from './use-recorder.ts';

export interface ProviderDeps {
  readonly config: Config;
  readonly storage: Storage;
  readonly identity: Identity;
  readonly policy: ScopePolicy;
  readonly grants: GrantService;
  readonly logger: Logger;
  readonly audit: Audit;
  /** One-time values: device polls, DPoP proofs, ID-JAG assertion ids. */
  readonly replay: ReplayCache;
  /** Display name of a client on the pages. */
  readonly clientName: (clientId: string) => Promise<string>;
  /** Private signing JWKs, the active key first (`keys.ts`). */
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] };
  /** Cookie signing keys, newest first (`secrets.ts`). */
  readonly cookieKeys: readonly string[];
  /**
   * Today's role-mapping verdict for a user who signs in through an upstream provider
   * (federation/provisioning.ts); undefined for local users, or when no provider is configured.
   */
  readonly upstreamVerdict?: ((userId: string) => Promise<Verdict | undefined>) | undefined;
  /** The token endpoint's DPoP nonce key (`secrets.ts`): the same on every instance. */
  readonly dpopNonceSecret: Buffer;
}

/** oidc-provider's per-endpoint error events whose code goes into the request log. */
const OAUTH_ERROR_EVENTS = [
  'grant.error',
  'registration_create.error',
  'revocation.error',
  'introspection.error',
  'authorization.error',
  'userinfo.error',
] as const;

/** Seconds an OAuth browser sign-in (the SSO session) lasts. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** Seconds a login/consent interaction may take. */
export const INTERACTION_TTL_SECONDS = 30 * 60;

interface SekishoAccount {
  [key: string]: unknown;
  accountId: string;
  role: Role;
  claims(): { sub: string; name: string; preferred_username: string; email: string };
}

/** RFC 8707 resource server definition of the MCP endpoint: JWT access tokens for it alone. */
export function mcpResourceServerInfo(
  config: Pick<Config, 'baseUrl' | 'accessTokenTtlSeconds'>,
  policy: Pick<ScopePolicy, 'resourceScopes'>,
) {
  return {
    scope: policy.resourceScopes.join(' '),
    audience: mcpResourceUrl(config),
    accessTokenTTL: config.accessTokenTtlSeconds,
    accessTokenFormat: 'jwt' as const,
    jwt: { sign: { alg: 'ES256' } },
  };
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, storage, identity, policy, grants, logger, audit } = deps;
  const resource = mcpResourceUrl(config);
  const https = config.baseUrl.startsWith('https:');
  /** Grants loaded because the user ticked "remember my decision" (skip the native-client prompt). */
  const remembered = new WeakSet<object>();
  const cimd = createCimdPolicy({ allowHosts: config.cimdAllowHosts, logger });

  /** Role changes apply to existing grants: scopes the role no longer allows are withheld. */
  const clampToRole = (grant: Grant, role: Role) => {
    const current = grant.getResourceScope(resource).split(' ').filter(Boolean);
    const allowed = new Set(policy.allowedFor(role, current));
    const withheld = current.filter((s) => !allowed.has(s));
    if (withheld.length > 0) grant.rejectResourceScope(resource, withheld.join(' '));
  };

  const consentPolicy = interactionPolicy.base();
  const consent = consentPolicy.get('consent')!;
  // oidc-provider always re-prompts native clients (RFC 8252 §8.6); we honour "remember my decision"
  // instead — a deliberate choice per user per client, documented in docs/authorization-server.md.
  consent.checks.remove('native_client_prompt');
  consent.checks.add(
    new interactionPolicy.Check(
      'native_client_prompt',
      'native clients require End-User interaction',
      'interaction_required',
      (ctx) => {
        const { oidc } = ctx;
        const native = oidc.client?.applicationType === 'native';
        return native && !oidc.result?.consent && !remembered.has(oidc.grant as object)
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
    1,
  );

  const configuration: Configuration = {
    adapter: createAdapterFactory({
      storage,
      clientIdleTtlSeconds: config.clientIdleTtlSeconds,
      refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
      resource,
      audit,
    }),
    clients: BUILT_IN_CLIENTS.map((c) => ({ ...c })),
    jwks: { keys: deps.jwks.keys.map((k) => ({ ...k })) },
    cookies: {
      // __Host- needs Path=/, which oidc-provider gives only the session cookie; the two
      // interaction cookies are path-scoped, so they get __Secure- (RFC 6265bis §4.1.3).
      names: https
        ? {
            session: '__Host-sekisho_session',
            interaction: '__Secure-sekisho_interaction',
            resume: '__Secure-sekisho_resume',
          }
        : { session: 'sekisho_session', interaction: 'sekisho_interaction', resume: 'sekisho_resume' },
      long: { httpOnly: true, sameSite: 'lax', secure: https },
      short: { httpOnly: true, sameSite: 'lax', secure: https },
      keys: [...deps.cookieKeys],
    },
    routes: { ...OAUTH_ROUTES },
    scopes: [...OIDC_SCOPES],
    claims: { ...OIDC_CLAIMS, openid: [...OIDC_CLAIMS.openid] },
    responseTypes: ['code'],
    // No client_secret_jwt: it needs the secret in clear, and we store only its digest.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic', // RFC 7591 §2 default
      id_token_signed_response_alg: 'ES256',
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256'],
      clientAuthSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'],
      dPoPSigningAlgValues: [...DPOP_ALGORITHMS],
    },
    extraClientMetadata: clientMetadataPolicy,
    // Our access tokens are for /mcp only, so userinfo cannot serve OpenID clients: put the claims
    // their scopes ask for into the ID token instead.
    conformIdTokenClaims: false,
    extraParams: {
      // A documented hook that runs after oidc-provider's own parameter checks: fill in the basic
      // scope set when the request names no MCP scope (the conformance suite sends no scope).
      async scope(ctx) {
        const params = ctx.oidc.params;
        const route = ctx.oidc.route;
        if ((route !== 'authorization' && route !== 'device_authorization') || !params) return;
        params.scope = policy.withDefaults(params.scope as string | undefined);
      },
    },
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Always rotate — except the one refresh that answers a step-up challenge, which is refused with
    // invalid_grant so the client authorizes again (step-up.ts).
    rotateRefreshToken: rotateUnlessSteppingUp(grants, logger),
    expiresWithSession: async () => false,
    extraTokenClaims: async (_ctx, token) =>
      token.kind === 'AccessToken' && 'grantId' in token && token.grantId
        ? { gid: token.grantId }
        : undefined,
    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: config.accessTokenTtlSeconds,
      Grant: config.grantTtlSeconds,
      Session: SESSION_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
      ClientCredentials: config.accessTokenTtlSeconds,
      DeviceCode: DEVICE_CODE_TTL_SECONDS,
      BackchannelAuthenticationRequest: 600,
      // Idle lifetime, restarted by every rotation, never beyond the grant's absolute expiry.
      RefreshToken(ctx) {
        const grantExp = ctx?.oidc?.entities?.Grant?.exp;
        const left = typeof grantExp === 'number' ? grantExp - Math.floor(Date.now() / 1000) : Infinity;
        return Math.max(1, Math.min(config.refreshTokenTtlSeconds, left));
      },
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: deviceFlowFeature({
        storage,
        identity,
        policy,
        replay: deps.replay,
        clientName: deps.clientName,
      }),
      clientCredentials: { enabled: true },
      // RFC 9449: a token request with a DPoP proof gets a token bound to its key (`cnf.jkt`, token
      // type DPoP; refresh tokens of public clients too); without one, a Bearer token as before.
      // Server nonces (§8) when SEKISHO_DPOP_NONCES asks: oidc-provider's, from a key derived from the
      // signing keys and the minute, so any instance accepts another's; a proof without one gets
      // use_dpop_nonce and a DPoP-Nonce header.
      dPoP: {
        enabled: true,
        nonceSecret: deps.dpopNonceSecret,
        requireNonce: () => config.dpopNonces,
      },
      pushedAuthorizationRequests: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      registrationManagement: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        // RFC 7662 §2.1: the caller must be authorized; a client learns only about its own tokens.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, _client, oneOf) => {
          // A service token must name its audience (ext-auth client credentials; RFC 8707).
          if (isClientCredentialsRequest(ctx)) {
            throw new errors.InvalidTarget(`the resource parameter is required; use ${resource}`);
          }
          return oneOf ? (oneOf.includes(resource) ? resource : oneOf) : resource;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator !== resource) {
            throw new errors.InvalidTarget(`unknown resource; this server protects ${resource} only`);
          }
          const info = mcpResourceServerInfo(config, policy);
          if (!isClientCredentialsRequest(ctx)) return info;
          return { ...info, scope: await serviceResourceScope(ctx, storage, policy) };
        },
      },
      clientIdMetadataDocument: {
        enabled: true,
        ack: 'draft-02',
        allowFetch: cimd.allowFetch,
        cacheDuration: { min: 60, max: 86_400 },
      },
    } as Configuration['features'],
    fetch: cimd.fetch as Configuration['fetch'],
    async findAccount(ctx, sub): Promise<SekishoAccount | undefined> {
      let user = await identity.findById(sub);
      // A disabled account gets nothing from the token endpoint, whatever grant it still holds.
      if (!user || user.disabledAt !== undefined) return undefined;
      const grant = (ctx as KoaContextWithOIDC | undefined)?.oidc?.entities?.Grant;
      // An upstream user is judged again by today's rules on every refresh (and every silent
      // sign-in): one they no longer admit loses the grant and every token issued under it now.
      const verdict = await deps.upstreamVerdict?.(user.id);
      if (verdict && !verdict.admitted) {
        logger.info({ userId: user.id, because: verdict.because }, 'upstream user no longer admitted');
        await identity.endSignIns(user.id, 'upstream_refused');
        return undefined;
      }
      if (verdict?.admitted && verdict.role !== user.role)
        user = await identity.setRole(user.username, verdict.role);
      // At the token endpoint the grant is loaded before the account: clamp it to today's role.
      if (grant && grant.accountId === user.id) clampToRole(grant, user.role);
      return {
        accountId: user.id,
        role: user.role,
        claims: () => ({
          sub: user.id,
          name: user.name,
          preferred_username: user.username,
          email: user.email,
        }),
      };
    },
    async loadExistingGrant(ctx) {
      const { Grant } = ctx.oidc.provider;
      const consented = ctx.oidc.result?.consent?.grantId;
      if (consented) return Grant.find(consented);
      const account = ctx.oidc.account as unknown as SekishoAccount | undefined;
      const clientId = ctx.oidc.client?.clientId;
      if (!account || !clientId) return undefined;
      // Only a decision the user asked us to remember is reused; otherwise consent is asked again —
      // also when the resource has just asked this client for scopes the grant lacks (step-up).
      const mine = await grants.listGrants({ accountId: account.accountId, clientId });
      const pending = policy.allowedFor(account.role, stepUpScopes(mine));
      for (const info of mine) {
        if (!info.remembered) continue;
        if (pending.some((s) => !info.scopes.includes(s))) continue;
        const grant = await Grant.find(info.grantId);
        if (!grant) continue;
        clampToRole(grant, account.role);
        remembered.add(grant);
        return grant;
      }
      return undefined;
    },
    interactions: {
      url: async (_ctx, interaction) => `${INTERACTION_PREFIX}/${interaction.uid}`,
      policy: consentPolicy,
    },
    async renderError(ctx, out) {
      renderErrorPage(ctx, out);
    },
  };

  const provider = new Provider(config.baseUrl, configuration);
  extendClientModel(provider);
  enforceDevicePollInterval(provider, deps.replay, config.devicePollIntervalSeconds);
  // Registered even with no IdP configured, so a client registered for it stays valid (its
  // grant_types are checked against the provider's); it is advertised only when an IdP is trusted.
  registerIdJagGrant(provider, {
    config,
    identity,
    links: storage,
    policy,
    replay: deps.replay,
    resourceServerInfo: mcpResourceServerInfo(config, policy),
    audit,
  });
  provider.use(
    deviceFlowMiddleware({
      limits: storage,
      intervalSeconds: config.devicePollIntervalSeconds,
      sessionCookie: provider.cookieName('session'),
    }),
  );

  provider.use(async (ctx, next) => {
    // Behind a TLS-terminating proxy Node sees http; the public URL is https, so cookies must be
    // Secure anyway (we do not trust X-Forwarded-* headers) — and every URL oidc-provider builds
    // from the request must say https too: the endpoints in the metadata, its redirects, the DPoP
    // `htu` it compares. The scheme comes from SEKISHO_BASE_URL, never from a request header.
    // (Found by `sekisho doctor`: the metadata advertised http endpoints behind TLS.)
    if (https) {
      ctx.cookies.secure = true;
      Object.defineProperty(ctx.request, 'protocol', { value: 'https' });
    }
    await next();
    if (ctx.state[STORAGE_DOWN]) answerStorageUnavailable(ctx);
    if (ctx.oidc?.route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
      const body = ctx.body as Record<string, unknown>;
      body.scopes_supported = [...policy.supported];
      if (config.enterpriseIdps.length > 0) {
        // MCP ext-auth Enterprise-Managed Authorization: how clients learn the ID-JAG grant is served.
        body.authorization_grant_profiles_supported = [ID_JAG_GRANT_PROFILE];
      } else if (Array.isArray(body.grant_types_supported)) {
        body.grant_types_supported = body.grant_types_supported.filter((g) => g !== JWT_BEARER_GRANT);
      }
    }
  });

  const uses = createUseRecorder({ storage });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantId = ctx.oidc.entities.Grant?.jti;
    const clientId = ctx.oidc.client?.clientId;
    // Only self-registered clients expire when idle; operator-registered ones have no TTL to slide.
    const operator = OPERATOR_ONLY_GRANTS.some((g) => ctx.oidc.client?.grantTypeAllowed(g));
    const idleTtl = operator ? undefined : config.clientIdleTtlSeconds;
    void Promise.all([
      grantId ? uses.record('Grant', grantId) : undefined,
      clientId ? uses.record('Client', clientId, idleTtl) : undefined,
    ]).catch((err: unknown) => logger.warn({ err }, 'could not record grant use'));
  });
  auditProviderEvents(provider, audit, logger);
  // The request log line of a failed OAuth request names the error code (never the description or
  // any parameter: those may carry client input). `oauth_error` for the endpoint, e.g. grant.error.
  const events = provider as unknown as NodeJS.EventEmitter; // the typings list only some events
  for (const event of OAUTH_ERROR_EVENTS) {
    events.on(event, (ctx: KoaContextWithOIDC, err: { error?: unknown }) => {
      if (typeof err?.error === 'string') {
        noteForRequestLog(ctx.res, { oauth_error: err.error, oauth_endpoint: event.split('.')[0]! });
      }
    });
  }
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
    if (err instanceof StorageUnavailableError) {
      // Not a bug: the middleware above turns this answer into a retryable 503.
      ctx.state[STORAGE_DOWN] = true;
      logger.warn({ reason: err.message, path: ctx.path }, 'authorization server: storage unavailable');
      return;
    }
    logger.error({ err }, 'authorization server error');
  });
  // Koa's own error channel, which otherwise prints to stderr: it also carries what a client did to
  // its connection (a broken chunked body, an abort), which is no server error.
  // oidc-provider's Provider is the Koa application; its types only name oidc-provider's events.
  (provider as unknown as NodeJS.EventEmitter).on(
    'error',
    (err: { status?: number; expose?: boolean; code?: string }) => {
      const clientCaused =
        err.expose === true || (err.status ?? 500) < 500 || /^(HPE_|ECONNRESET|EPIPE)/.test(err.code ?? '');
      if (clientCaused) logger.debug({ err }, 'authorization server request failed on the client side');
      else logger.error({ err }, 'authorization server error');
    },
  );
  return provider;
}

/** ctx.state key set by the server_error listener when the cause was the database. */
/** What the two answers below need from a Koa context (oidc-provider's or provider.use's). */
type PageContext = Pick<
  KoaContextWithOIDC,
  'get' | 'set' | 'req' | 'res' | 'query' | 'type' | 'body' | 'status'
> &
  Partial<Pick<KoaContextWithOIDC, 'oidc'>>;

const STORAGE_DOWN = 'sekishoStorageUnavailable';

/** The HTML error page for oidc-provider's errors (a browser on /oauth/auth, end-session …). */
function renderErrorPage(ctx: PageContext, out: { error?: unknown; error_description?: unknown }): void {
  const lang = langOf(ctx.req, ctx.oidc?.params?.ui_locales ?? ctx.query.ui_locales);
  setPageHeaders(ctx.res);
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.set('Vary', 'Accept-Language, Cookie');
  ctx.body = errorPage({
    lang,
    switchHref: switchHref(ctx.req, lang),
    detail: typeof out.error_description === 'string' ? out.error_description : undefined,
    code: String(out.error ?? 'server_error'),
  });
}

/**
 * oidc-provider answers any unexpected error as 500 server_error. When the cause was the database
 * being unreachable, the honest answer is a retryable 503 `temporarily_unavailable` with Retry-After
 * (the same answer http/errors.ts gives on our own routes; oidc-provider's routes never reach it).
 */
function answerStorageUnavailable(ctx: PageContext): void {
  const out = {
    error: 'temporarily_unavailable',
    error_description: 'the authorization server cannot reach its database right now; retry shortly',
  };
  const html = typeof ctx.type === 'string' && ctx.type.includes('html');
  ctx.status = 503;
  ctx.set('Retry-After', String(StorageUnavailableError.retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  if (html) renderErrorPage(ctx, out);
  else ctx.body = out;
}

/**
 * What oidc-provider does on its own that the audit log must hold: dynamic registrations and their
 * deletion by the client (RFC 7592), and grants it revokes — on a reused refresh token or
 * authorization code (RFC 9700 §4.14.2, RFC 6749 §4.1.2) or at the revocation endpoint (RFC 7009).
 * Its events fire inside the request, so the audit service finds the caller's IP and user agent.
 */
function auditProviderEvents(provider: Provider, audit: Audit, logger: Logger): void {
  const record = (event: Parameters<Audit['record']>[0]) =>
    void audit.record(event).catch((err: unknown) => logger.warn({ err }, 'audit failed'));
  const clientOf = (client: { clientId?: string; clientName?: string } | undefined) => client?.clientId;
  const events = provider as unknown as NodeJS.EventEmitter; // the typings list only some events
  events.on(
    'registration_create.success',
    (_ctx: KoaContextWithOIDC, client: { clientId: string; clientName?: string; redirectUris?: string[] }) =>
      record({
        type: 'client.registered',
        actor: { kind: 'client', id: client.clientId },
        clientId: client.clientId,
        details: { kind: 'dcr', name: client.clientName, redirectUris: client.redirectUris ?? [] },
      }),
  );
  events.on('registration_delete.success', (_ctx: KoaContextWithOIDC, client: { clientId: string }) =>
    record({
      type: 'client.removed',
      actor: { kind: 'client', id: client.clientId },
      clientId: clientOf(client),
      details: { by: 'client' },
    }),
  );
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const clientId = clientOf(ctx.oidc.client);
    const grantType = ctx.oidc.params?.grant_type;
    const userId =
      ctx.oidc.entities.RefreshToken?.accountId ?? ctx.oidc.entities.AuthorizationCode?.accountId;
    const base = { clientId, grantId, userId };
    if (ctx.oidc.route === 'token' && grantType === 'refresh_token') {
      record({
        type: 'refresh_token.reused',
        outcome: 'failure',
        actor: { kind: 'client', id: clientId },
        ...base,
      });
      record({ type: 'grant.revoked', ...base, details: { by: 'reuse_detection' } });
    } else if (ctx.oidc.route === 'token') {
      record({ type: 'grant.revoked', ...base, details: { by: 'code_reuse' } });
    } else {
      record({
        type: 'grant.revoked',
        actor: { kind: 'client', id: clientId },
        ...base,
        details: { by: 'client' },
      });
    }
  });
}
