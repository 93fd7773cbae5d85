/**
 * RFC 7662 token introspection at the external authorization server: how opaque tokens are checked,
 * and — with SEKISHO_EXTERNAL_TOKEN_VERIFICATION=introspection — every token, so a revocation there
 * takes effect here within the cache time.
 *
 *  - Sekisho authenticates as the configured client: client_secret_basic (RFC 6749 §2.3.1: id and
 *    secret form-encoded, then Basic), or client_secret_post when the server lists only that;
 *  - an answer is believed only when `active` is true, `iss` (if given) is the issuer, `aud` names an
 *    accepted audience (required: without it nothing says the token was meant for us), it is not a
 *    refresh token, and `exp`/`nbf` hold with the clock skew;
 *  - answers are cached by token digest for SEKISHO_EXTERNAL_INTROSPECTION_CACHE_SECONDS and never
 *    past the token's `exp`; "inactive" answers too, so a flood of made-up tokens costs the server
 *    one request per token per cache period; concurrent checks of one token share one request, and
 *    at most MAX_IN_FLIGHT requests run at once (more → 503, not a queue that grows without bound);
 *  - the server refusing our client, timing out or failing is ExternalIssuerUnavailableError (503).
 */
import { createTokenCache, tokenDigest } from '../token-cache.ts';
import { TokenRejectedError } from '../verify-token.ts';
import { ExternalIssuerUnavailableError } from './errors.ts';
import { fetchJson } from './fetch-json.ts';

export type IntrospectionAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface IntrospectionOptions {
  readonly endpoint: string;
  readonly client: { readonly id: string; readonly secret: string };
  readonly authMethod: IntrospectionAuthMethod;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly cacheSeconds: number;
  readonly clockSkewSeconds: number;
  readonly timeoutMs: number;
  readonly cacheSize?: number;
  readonly now?: () => number;
}

/** The claims of an active token, with the second its answer stops being usable. */
export interface Introspected {
  readonly claims: Readonly<Record<string, unknown>>;
  /** The token's `exp`, or (when the server gave none) the end of the cache period. */
  readonly expiresAt: number;
}

export interface Introspector {
  (token: string): Promise<Introspected>;
  readonly stats: { requests: number; hits: number };
}

export const MAX_IN_FLIGHT = 64;
const MAX_ANSWER_BYTES = 64 * 1024;

type CacheEntry =
  | { readonly expiresAt: number; readonly active: Introspected }
  | { readonly expiresAt: number; readonly refused: string };

/** Which client authentication to use, from the metadata's list (absent = the RFC 7662 default, basic). */
export function introspectionAuthMethod(
  supported: readonly string[] | undefined,
): IntrospectionAuthMethod | undefined {
  if (supported === undefined || supported.includes('client_secret_basic')) return 'client_secret_basic';
  if (supported.includes('client_secret_post')) return 'client_secret_post';
  return undefined;
}

export function createIntrospector(opts: IntrospectionOptions): Introspector {
  const now = opts.now ?? Date.now;
  const cache = createTokenCache<CacheEntry>(opts.cacheSeconds > 0 ? (opts.cacheSize ?? 10_000) : 0);
  const pending = new Map<string, Promise<CacheEntry>>();
  const stats = { requests: 0, hits: 0 };

  const ask = async (token: string): Promise<CacheEntry> => {
    stats.requests++;
    const answer = await fetchJson(opts.endpoint, {
      method: 'POST',
      timeoutMs: opts.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      ...requestFor(token, opts),
    });
    if (answer.status === 401 || answer.status === 403) {
      throw new ExternalIssuerUnavailableError(
        'the introspection endpoint refused our client (check SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID and _SECRET)',
      );
    }
    if (answer.status !== 200) {
      throw new ExternalIssuerUnavailableError(`the introspection endpoint answered ${answer.status}`);
    }
    const nowSeconds = Math.floor(now() / 1000);
    const cacheUntil = nowSeconds + opts.cacheSeconds;
    const verdict = judge(answer.body, opts, nowSeconds);
    if (typeof verdict === 'string') return { expiresAt: cacheUntil, refused: verdict };
    const expiresAt = verdict.expiresAt ?? cacheUntil;
    return { expiresAt: Math.min(expiresAt, cacheUntil), active: { claims: verdict.claims, expiresAt } };
  };

  const introspect = async (token: string): Promise<Introspected> => {
    const nowSeconds = Math.floor(now() / 1000);
    let entry = cache.get(token, nowSeconds);
    if (entry) {
      stats.hits++;
    } else {
      const key = tokenDigest(token);
      let inFlight = pending.get(key);
      if (!inFlight) {
        if (pending.size >= MAX_IN_FLIGHT) {
          throw new ExternalIssuerUnavailableError('too many token introspections at once');
        }
        inFlight = ask(token).finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      entry = await inFlight;
      if (entry.expiresAt > nowSeconds) cache.set(token, entry);
    }
    if ('refused' in entry) throw new TokenRejectedError(entry.refused);
    return entry.active;
  };
  return Object.assign(introspect, { stats });
}

function requestFor(
  token: string,
  opts: IntrospectionOptions,
): { headers: Record<string, string>; body: string } {
  const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (opts.authMethod === 'client_secret_basic') {
    const pair = `${formEncode(opts.client.id)}:${formEncode(opts.client.secret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    form.set('client_id', opts.client.id);
    form.set('client_secret', opts.client.secret);
  }
  return { headers, body: form.toString() };
}

/** RFC 6749 §2.3.1 / Appendix B: application/x-www-form-urlencoded. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** The answer's verdict: the claims of an acceptable active token, or why it is refused. */
function judge(
  body: unknown,
  opts: Pick<IntrospectionOptions, 'issuer' | 'audiences' | 'clockSkewSeconds'>,
  nowSeconds: number,
): { claims: Record<string, unknown>; expiresAt: number | undefined } | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ExternalIssuerUnavailableError(
      'the introspection endpoint answered something other than a JSON object',
    );
  }
  const claims = body as Record<string, unknown>;
  if (claims.active !== true) return 'The access token is not active (revoked, expired or unknown).';
  if (claims.iss !== undefined && claims.iss !== opts.issuer) {
    return 'The access token was issued by another authorization server.';
  }
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!Array.isArray(aud) || !aud.some((a) => typeof a === 'string' && opts.audiences.includes(a))) {
    return 'The access token was not issued for this resource.';
  }
  const type = typeof claims.token_type === 'string' ? claims.token_type.toLowerCase() : undefined;
  if (type === 'refresh_token' || type === 'urn:ietf:params:oauth:token-type:refresh_token') {
    return 'A refresh token is not an access token.';
  }
  const { exp, nbf } = claims;
  if (exp !== undefined && (typeof exp !== 'number' || exp + opts.clockSkewSeconds <= nowSeconds)) {
    return 'The access token has expired.';
  }
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - opts.clockSkewSeconds > nowSeconds)) {
    return 'The access token is not valid yet.';
  }
  return { claims, expiresAt: typeof exp === 'number' ? exp : undefined };
}
