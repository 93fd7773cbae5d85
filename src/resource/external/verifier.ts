/**
 * The token verifier of resource-server-only mode: the same `TokenVerifier` the /mcp gate uses with
 * the built-in authorization server, checking an external server's tokens instead (docs/identity.md).
 *
 *   SEKISHO_EXTERNAL_TOKEN_VERIFICATION=auto           JWTs → jwt.ts; anything else → introspection.ts
 *                                                      (when a client is configured, else refused)
 *                                      =jwt            JWTs only
 *                                      =introspection  every token through introspection.ts
 *
 * Either way the claims become the caller (claims.ts), carried on the verified token, so the gate's
 * grant and account lookups are skipped: the external server is the authority on both. A JWT's
 * verdict is cached until it expires (like our own tokens: such a token cannot be revoked, only
 * outlived); introspection answers are cached by introspection.ts for its own, shorter period.
 */
import type { ExternalIssuerSettings } from '../../config/config.ts';
import { EXTERNAL_TOKEN_ALGORITHMS } from '../../config/schema.ts';
import { createTokenCache, tokenDigest } from '../token-cache.ts';
import {
  checkTokenShape,
  TokenRejectedError,
  type TokenVerifier,
  type VerifiedAccessToken,
} from '../verify-token.ts';
import { callerFromClaims, type RoleRules } from './claims.ts';
import type { ExternalServerMetadata } from './discovery.ts';
import { ExternalIssuerSetupError } from './errors.ts';
import {
  createIntrospector,
  type IntrospectionAuthMethod,
  type Introspector,
  introspectionAuthMethod,
} from './introspection.ts';
import { createExternalJwtCheck, type ExternalJwtCheck, looksLikeJwt } from './jwt.ts';

export interface ExternalVerifierOptions {
  readonly settings: ExternalIssuerSettings;
  readonly metadata: ExternalServerMetadata;
  /** `<base>/mcp`: always an accepted audience. */
  readonly resourceUrl: string;
  /** Tests: the key-set refetch cooldown on an unknown `kid`. */
  readonly jwksCooldownMs?: number;
  /** Tests: how long a fetched key set is used before it is re-read. */
  readonly jwksMaxAgeMs?: number;
  readonly now?: () => number;
}

const SAFE_ALGORITHMS = new Set<string>(EXTERNAL_TOKEN_ALGORITHMS);

/**
 * Signing algorithms accepted on access tokens: the configured list, else the asymmetric ones the
 * metadata names for ID tokens (RFC 8414 has no member for access tokens; servers sign both with
 * the same keys), else every asymmetric one. Never `none` or HS*.
 */
export function acceptedAlgorithms(
  configured: readonly string[] | undefined,
  metadata: Pick<ExternalServerMetadata, 'id_token_signing_alg_values_supported'>,
): string[] {
  if (configured !== undefined) return configured.filter((a) => SAFE_ALGORITHMS.has(a));
  const named = (metadata.id_token_signing_alg_values_supported ?? []).filter((a) => SAFE_ALGORITHMS.has(a));
  return named.length > 0 ? named : [...EXTERNAL_TOKEN_ALGORITHMS];
}

export function createExternalTokenVerifier(opts: ExternalVerifierOptions): TokenVerifier {
  const { settings } = opts;
  const now = opts.now ?? Date.now;
  const audiences = [opts.resourceUrl, ...settings.extraAudiences];
  const rules: RoleRules = { roleClaim: settings.roleClaim, adminValues: settings.adminValues };
  const plan = verificationPlan(settings, opts.metadata);
  const jwt = jwtCheckFor(opts, plan, audiences);
  const introspect = introspectorFor(opts, plan, audiences);
  const cache = createTokenCache<VerifiedAccessToken>(10_000);
  const stats = { hits: 0, misses: 0, keyReloads: 0 };

  const toVerified = (
    token: string,
    claims: Readonly<Record<string, unknown>>,
    expiresAt: number,
  ): VerifiedAccessToken => {
    const caller = callerFromClaims(claims, { issuer: settings.issuer, expiresAt, rules });
    const { cnf, jti, uti, iat } = claims;
    let jkt: string | undefined;
    if (cnf !== undefined) {
      // A sender-constrained token is only usable if we can check the constraint: DPoP yes (the gate
      // demands the proof), mutual-TLS (x5t#S256) and anything else no.
      const bound = (cnf as { jkt?: unknown } | null)?.jkt;
      if (typeof bound !== 'string' || bound === '') {
        throw new TokenRejectedError('The access token has a confirmation this server does not support.');
      }
      jkt = bound;
    }
    const id =
      typeof jti === 'string' && jti !== '' ? jti : typeof uti === 'string' && uti !== '' ? uti : undefined;
    return Object.freeze({
      subject: claims.sub as string,
      clientId: caller.clientId,
      scopes: Object.freeze([...caller.scopes]),
      grantId: undefined,
      tokenId: id ?? tokenDigest(token).slice(0, 22),
      jkt,
      expiresAt,
      issuedAt: typeof iat === 'number' ? iat : undefined,
      caller,
    });
  };

  const viaJwt = async (token: string, check: ExternalJwtCheck): Promise<VerifiedAccessToken> => {
    const cached = cache.get(token, Math.floor(now() / 1000));
    if (cached) {
      stats.hits++;
      return cached;
    }
    stats.misses++;
    const payload = await check(token);
    const verified = toVerified(token, payload, payload.exp);
    cache.set(token, verified);
    return verified;
  };

  const viaIntrospection = async (token: string, ask: Introspector): Promise<VerifiedAccessToken> => {
    const { claims, expiresAt } = await ask(token);
    return toVerified(token, claims, expiresAt);
  };

  return {
    stats,
    async verify(token) {
      checkTokenShape(token);
      if (settings.verification === 'introspection' && introspect) return viaIntrospection(token, introspect);
      if (jwt && looksLikeJwt(token)) return viaJwt(token, jwt);
      if (introspect) return viaIntrospection(token, introspect);
      throw new TokenRejectedError(`This server accepts only JWT access tokens from ${settings.issuer}.`);
    },
    // The gate forgets a token it refused. Only JWT verdicts are dropped: an introspection answer
    // (an "inactive" one above all) stays cached, or every retry of a dead token would reach the issuer.
    forget: (token) => cache.delete(token),
    forgetWhere: ({ subject }) =>
      subject === undefined ? 0 : cache.deleteWhere((v) => v.subject === subject),
    async reloadKeys() {
      if (!jwt) return;
      await jwt.reload();
      stats.keyReloads++;
    },
  };
}

/** How tokens will be checked, decided from the settings and the metadata once, at start-up. */
export interface VerificationPlan {
  /** Verify JWTs against this key set; undefined = no local JWT verification. */
  readonly jwksUri: string | undefined;
  /** Introspect here; undefined = no introspection. */
  readonly introspection:
    | { readonly endpoint: string; readonly authMethod: IntrospectionAuthMethod }
    | undefined;
}

/**
 * The plan, or an ExternalIssuerSetupError naming what the metadata lacks. The composition root
 * calls it right after discovery, so a server that cannot work stops before anything is opened.
 */
export function verificationPlan(
  settings: ExternalIssuerSettings,
  metadata: ExternalServerMetadata,
): VerificationPlan {
  let introspection: VerificationPlan['introspection'];
  if (settings.introspectionClient !== undefined && settings.verification !== 'jwt') {
    if (metadata.introspection_endpoint === undefined) {
      throw new ExternalIssuerSetupError(
        `SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: ${metadata.metadataUrl} has no introspection_endpoint`,
      );
    }
    const authMethod = introspectionAuthMethod(metadata.introspection_endpoint_auth_methods_supported);
    if (authMethod === undefined) {
      throw new ExternalIssuerSetupError(
        `SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: ${metadata.metadataUrl} supports neither client_secret_basic nor client_secret_post at its introspection endpoint`,
      );
    }
    introspection = { endpoint: metadata.introspection_endpoint, authMethod };
  }
  if (settings.verification === 'introspection') return { jwksUri: undefined, introspection };
  if (metadata.jwks_uri === undefined && introspection === undefined) {
    throw new ExternalIssuerSetupError(
      `SEKISHO_EXTERNAL_ISSUER: ${metadata.metadataUrl} has no jwks_uri, so JWT access tokens cannot be verified (configure introspection instead)`,
    );
  }
  if (metadata.jwks_uri === undefined && settings.verification === 'jwt') {
    throw new ExternalIssuerSetupError(
      `SEKISHO_EXTERNAL_TOKEN_VERIFICATION: jwt needs a jwks_uri, and ${metadata.metadataUrl} has none`,
    );
  }
  return { jwksUri: metadata.jwks_uri, introspection };
}

function jwtCheckFor(
  opts: ExternalVerifierOptions,
  plan: VerificationPlan,
  audiences: readonly string[],
): ExternalJwtCheck | undefined {
  const { settings, metadata } = opts;
  if (plan.jwksUri === undefined) return undefined;
  return createExternalJwtCheck({
    issuer: settings.issuer,
    audiences,
    jwksUri: plan.jwksUri,
    algorithms: acceptedAlgorithms(settings.algorithms, metadata),
    clockSkewSeconds: settings.clockSkewSeconds,
    timeoutMs: settings.timeoutMs,
    cooldownMs: opts.jwksCooldownMs,
    cacheMaxAgeMs: opts.jwksMaxAgeMs,
    now: opts.now,
  });
}

function introspectorFor(
  opts: ExternalVerifierOptions,
  plan: VerificationPlan,
  audiences: readonly string[],
): Introspector | undefined {
  const { settings } = opts;
  const client = settings.introspectionClient;
  if (plan.introspection === undefined || client === undefined) return undefined;
  return createIntrospector({
    endpoint: plan.introspection.endpoint,
    client,
    authMethod: plan.introspection.authMethod,
    issuer: settings.issuer,
    audiences,
    cacheSeconds: settings.introspectionCacheSeconds,
    clockSkewSeconds: settings.clockSkewSeconds,
    timeoutMs: settings.timeoutMs,
    now: opts.now,
  });
}
