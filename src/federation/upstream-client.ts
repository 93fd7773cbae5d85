/**
 * Sekisho as an OpenID Connect relying party of one upstream provider, through openid-client 6:
 * discovery (the metadata's `issuer` must equal the configured issuer exactly), the authorization
 * URL with PKCE S256, `state` and `nonce`, and the callback: RFC 9207 `iss` checked against this
 * provider (mix-up defence), the code redeemed with the client secret, the ID token verified —
 * signature against the provider's JWKS, `iss`, `aud` (and `azp`), `exp`/`iat`, `nonce` — and the
 * claims completed from userinfo when the provider has one.
 *
 * The upstream tokens stay inside `finish`: nothing here returns, stores or logs them (no token
 * passthrough; MCP clients only ever get Sekisho's own tokens).
 */
import type * as Oidc from 'openid-client';
import type { UpstreamProvider } from '../config/upstreams.ts';
import { HttpError } from '../http/errors.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * openid-client (and oauth4webapi under it) is loaded on the first discovery, not at start: a server
 * with no upstream provider never loads it (idle memory, docs/benchmarks.md).
 */
let library: typeof Oidc | undefined;
async function openIdClient(): Promise<typeof Oidc> {
  library ??= await import('openid-client');
  return library;
}

/** Seconds any one call to the upstream may take. */
const UPSTREAM_TIMEOUT_SECONDS = 10;
/** A failed discovery is retried no sooner than this (a dead IdP is not hammered per click). */
const DISCOVERY_RETRY_MS = 5_000;

export interface RoundTripSecrets {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface UpstreamClient {
  readonly provider: UpstreamProvider;
  /**
   * Origins the browser is sent to when the user picks this provider (the issuer's, and the
   * authorization endpoint's once discovered): the login page's CSP `form-action` must allow them,
   * since browsers apply it to the redirect that answers a form post.
   */
  formTargets(): string[];
  /** Discovers the provider ahead of the first sign-in (errors are logged, not thrown). */
  warmUp(): Promise<void>;
  /** A new authorization request: where to send the browser and what to remember for the callback. */
  begin(redirectUri: string): Promise<{ url: URL; secrets: RoundTripSecrets }>;
  /**
   * Verifies the authorization response at `callbackUrl` (our redirect URI with the query the
   * provider sent) against what `begin` made, and returns the verified claims.
   */
  finish(callbackUrl: URL, secrets: RoundTripSecrets): Promise<Record<string, unknown>>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function createUpstreamClient(provider: UpstreamProvider, logger: Logger): UpstreamClient {
  const insecure = new URL(provider.issuer).protocol === 'http:'; // loopback only (config/upstreams.ts)
  let configuration: Promise<Oidc.Configuration> | undefined;
  let failedAt = 0;
  let authorizationOrigin: string | undefined;

  async function discover(): Promise<Oidc.Configuration> {
    const oidc = await openIdClient();
    const discovered = await oidc.discovery(
      new URL(provider.issuer),
      provider.clientId,
      undefined,
      oidc.ClientSecretPost(provider.clientSecret),
      { timeout: UPSTREAM_TIMEOUT_SECONDS, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) },
    );
    const metadata = discovered.serverMetadata();
    const methods = metadata.token_endpoint_auth_methods_supported;
    // RFC 8414 default is client_secret_basic; use post only where basic is not offered.
    const auth =
      !methods || methods.includes('client_secret_basic')
        ? oidc.ClientSecretBasic(provider.clientSecret)
        : oidc.ClientSecretPost(provider.clientSecret);
    const config = new oidc.Configuration(metadata, provider.clientId, undefined, auth);
    config.timeout = UPSTREAM_TIMEOUT_SECONDS;
    // OIDC Core §3.1.3.7 lets a client trust TLS for an ID token from the token endpoint; Sekisho
    // verifies the signature against the provider's JWKS anyway (a proxy or a mis-issued
    // certificate in between cannot mint identities), as openid-client does only when asked.
    oidc.enableNonRepudiationChecks(config);
    const endpoint = metadata.authorization_endpoint;
    authorizationOrigin = endpoint ? URL.parse(endpoint)?.origin : undefined;
    if (insecure && LOOPBACK.has(new URL(provider.issuer).hostname)) oidc.allowInsecureRequests(config);
    return config;
  }

  function configured(): Promise<Oidc.Configuration> {
    if (!configuration && Date.now() - failedAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(unavailable('discovery failed moments ago'));
    }
    configuration ??= discover().catch((err: unknown) => {
      configuration = undefined;
      failedAt = Date.now();
      logger.warn({ provider: provider.id, reason: reasonOf(err) }, 'upstream discovery failed');
      throw unavailable(reasonOf(err));
    });
    return configuration;
  }

  return {
    provider,
    formTargets() {
      const issuerOrigin = new URL(provider.issuer).origin;
      return authorizationOrigin && authorizationOrigin !== issuerOrigin
        ? [issuerOrigin, authorizationOrigin]
        : [issuerOrigin];
    },
    async warmUp() {
      await configured().catch(() => undefined);
    },
    async begin(redirectUri) {
      const config = await configured();
      const oidc = await openIdClient();
      const secrets: RoundTripSecrets = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: provider.scopes.join(' '),
        response_type: 'code',
        state: secrets.state,
        nonce: secrets.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(secrets.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url, secrets };
    },

    async finish(callbackUrl, secrets) {
      const config = await configured();
      const oidc = await openIdClient();
      let tokens: Awaited<ReturnType<typeof Oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: secrets.codeVerifier,
          expectedState: secrets.state,
          expectedNonce: secrets.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        throw refusal(err, oidc, provider, logger);
      }
      const claims = tokens.claims();
      if (!claims) throw new HttpError(502, 'upstream_sign_in_failed', 'The provider sent no ID token.');
      const merged: Record<string, unknown> = { ...claims };
      if (config.serverMetadata().userinfo_endpoint) {
        try {
          const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
          // The ID token is the signed statement: userinfo only fills in what it did not say.
          for (const [k, v] of Object.entries(info)) if (!(k in merged)) merged[k] = v;
        } catch (err) {
          logger.warn(
            { provider: provider.id, reason: reasonOf(err) },
            'upstream userinfo failed; using the ID token alone',
          );
        }
      }
      return merged;
    },
  };
}

function unavailable(reason: string): HttpError {
  return new HttpError(
    502,
    'upstream_unavailable',
    `The identity provider could not be reached (${reason}).`,
  );
}

/**
 * What went wrong, for the log and the page: the provider's own OAuth error (e.g. the user pressed
 * Cancel there: access_denied), or which check refused the response. Never a token or a code.
 */
function refusal(err: unknown, oidc: typeof Oidc, provider: UpstreamProvider, logger: Logger): HttpError {
  if (err instanceof oidc.AuthorizationResponseError) {
    logger.info({ provider: provider.id, error: err.error }, 'upstream refused the sign-in');
    return new HttpError(
      err.error === 'access_denied' ? 403 : 400,
      err.error === 'access_denied' ? 'upstream_access_denied' : 'upstream_sign_in_failed',
      `The identity provider answered ${err.error}.`,
    );
  }
  if (err instanceof oidc.ResponseBodyError) {
    logger.warn({ provider: provider.id, error: err.error }, 'upstream token request refused');
    return new HttpError(
      502,
      'upstream_sign_in_failed',
      `The identity provider refused the code (${err.error}).`,
    );
  }
  const reason = reasonOf(err);
  if (/timed? ?out|fetch failed|ECONN|ENOTFOUND|network/i.test(reason)) return unavailable(reason);
  logger.warn({ provider: provider.id, reason }, 'upstream response failed verification');
  return new HttpError(
    400,
    'upstream_sign_in_failed',
    `The sign-in response failed verification: ${reason}.`,
  );
}

/** The most specific message of an openid-client/oauth4webapi error chain (they wrap the cause). */
function reasonOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 3; depth++) {
    parts.push(e.message);
    e = e.cause;
  }
  return (parts.at(-1) ?? String(err)).slice(0, 200);
}
