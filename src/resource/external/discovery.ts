/**
 * Finding the external authorization server's metadata (resource-server-only mode), the way MCP
 * clients do (MCP authorization, "Authorization Server Metadata Discovery"): RFC 8414 first, then
 * OpenID Connect Discovery. For an issuer with a path (`https://idp.example/tenant`) that is
 *
 *   1. https://idp.example/.well-known/oauth-authorization-server/tenant   (RFC 8414 §3.1)
 *   2. https://idp.example/.well-known/openid-configuration/tenant         (RFC 8414 §5 for OIDC)
 *   3. https://idp.example/tenant/.well-known/openid-configuration         (OIDC Discovery §4)
 *
 * and for one without, the first and the last. A 4xx moves on to the next; anything that is not an
 * answer (timeout, 5xx, 429) is "unavailable" and retried at start-up by `discoverWithRetry`.
 *
 * The document must name the configured issuer character for character (RFC 8414 §3.3 — this is
 * what stops one server's metadata from standing in for another's), and its endpoints must use
 * https (http only when the issuer itself is a development http://localhost one).
 */
import type { ExternalIssuerSettings } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import { ExternalIssuerSetupError, ExternalIssuerUnavailableError } from './errors.ts';
import { fetchJson, MAX_ANSWER_BYTES } from './fetch-json.ts';

/** The members Sekisho reads; the rest of the document is kept for `oauth_info` and the home page. */
export interface ExternalServerMetadata {
  readonly issuer: string;
  readonly jwks_uri?: string;
  readonly introspection_endpoint?: string;
  readonly introspection_endpoint_auth_methods_supported?: readonly string[];
  readonly id_token_signing_alg_values_supported?: readonly string[];
  readonly authorization_endpoint?: string;
  readonly token_endpoint?: string;
  readonly registration_endpoint?: string;
  readonly revocation_endpoint?: string;
  readonly userinfo_endpoint?: string;
  readonly client_id_metadata_document_supported?: boolean;
  /** Where the document was found. */
  readonly metadataUrl: string;
}

const URL_MEMBERS = [
  'jwks_uri',
  'introspection_endpoint',
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'revocation_endpoint',
  'userinfo_endpoint',
] as const;

/** The metadata URLs for an issuer, in MCP client order (also what `sekisho doctor` probes). */
export function discoveryUrls(issuer: string | URL): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') {
    return [
      `${url.origin}/.well-known/oauth-authorization-server`,
      `${url.origin}/.well-known/openid-configuration`,
    ];
  }
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/** One pass over the discovery URLs. Throws Setup (wrong documents) or Unavailable (try later). */
export async function discoverMetadata(
  settings: Pick<ExternalIssuerSettings, 'issuer' | 'timeoutMs'>,
): Promise<ExternalServerMetadata> {
  const tried: string[] = [];
  for (const url of discoveryUrls(settings.issuer)) {
    const answer = await fetchJson(url, { timeoutMs: settings.timeoutMs, maxBytes: MAX_ANSWER_BYTES });
    if (answer.status >= 500 || answer.status === 429) {
      throw new ExternalIssuerUnavailableError(`${url} answered ${answer.status}`);
    }
    if (answer.status !== 200) {
      // Not here (404; some servers say 400 or 403 for a path they do not know): try the next form.
      tried.push(`${answer.status} at ${url}`);
      continue;
    }
    return checkMetadata(answer.body, settings.issuer, url);
  }
  throw new ExternalIssuerSetupError(
    `no authorization server metadata for ${settings.issuer} (${tried.join(', ')})`,
  );
}

export function checkMetadata(body: unknown, issuer: string, metadataUrl: string): ExternalServerMetadata {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ExternalIssuerSetupError(`${metadataUrl} is not a JSON object`);
  }
  const doc = body as Record<string, unknown>;
  if (doc.issuer !== issuer) {
    throw new ExternalIssuerSetupError(
      `${metadataUrl} names the issuer ${JSON.stringify(doc.issuer)}, not ${JSON.stringify(issuer)} (SEKISHO_EXTERNAL_ISSUER must match it exactly)`,
    );
  }
  const allowHttp = new URL(issuer).protocol === 'http:';
  for (const member of URL_MEMBERS) {
    const value = doc[member];
    if (value === undefined) continue;
    const url = typeof value === 'string' ? URL.parse(value) : null;
    if (!url || (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:'))) {
      throw new ExternalIssuerSetupError(`${metadataUrl}: ${member} must be an https URL`);
    }
  }
  for (const member of [
    'introspection_endpoint_auth_methods_supported',
    'id_token_signing_alg_values_supported',
  ]) {
    const value = doc[member];
    if (value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
      throw new ExternalIssuerSetupError(`${metadataUrl}: ${member} must be an array of strings`);
    }
  }
  return Object.freeze({ ...(doc as Omit<ExternalServerMetadata, 'metadataUrl'>), metadataUrl });
}

/**
 * Start-up: retries an unreachable server with backoff (0.25 s doubling to 5 s) for
 * `startupTimeoutSeconds`, like an unreachable database; wrong documents fail at once. Either way
 * the error says what to fix in one line.
 */
export async function discoverWithRetry(
  settings: Pick<ExternalIssuerSettings, 'issuer' | 'timeoutMs' | 'startupTimeoutSeconds'>,
  logger: Logger,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<ExternalServerMetadata> {
  const deadline = Date.now() + settings.startupTimeoutSeconds * 1000;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await discoverMetadata(settings);
    } catch (error) {
      if (error instanceof ExternalIssuerSetupError) {
        throw new ExternalIssuerSetupError(`SEKISHO_EXTERNAL_ISSUER: ${error.message}`);
      }
      if (!(error instanceof ExternalIssuerUnavailableError)) throw error;
      if (Date.now() + delay > deadline) {
        throw new ExternalIssuerSetupError(
          `SEKISHO_EXTERNAL_ISSUER: cannot reach ${settings.issuer} (${error.message}; ${attempt} attempt${attempt === 1 ? '' : 's'})`,
        );
      }
      logger.warn(
        { issuer: settings.issuer, reason: error.message, attempt },
        'external issuer unreachable; retrying',
      );
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
