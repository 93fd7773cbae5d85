/**
 * Client policy: what a registration (RFC 7591) or a client ID metadata document may say, how
 * redirect URIs match, and how confidential clients authenticate.
 *
 *  - `scope` in client metadata is ignored: oidc-provider would turn it into an allow-list, so a
 *    later step-up to a broader scope would fail with `invalid_scope` (clients.md pitfall 1). What a
 *    user may grant is decided by their role and the tool registry instead.
 *  - http redirect URIs only on loopback hosts (OAuth 2.1 §2.3.1, RFC 8252 §7.3); at most
 *    MAX_REDIRECT_URIS of them; the metadata document at most MAX_METADATA_BYTES.
 *  - A loopback redirect URI matches on any port, for every client type (RFC 8252 §7.3: native apps
 *    bind an ephemeral port; the v1 SDK client registers without `application_type`, which makes it
 *    a `web` client for which oidc-provider would demand the exact port). Everything else matches
 *    exactly.
 *  - Client secrets are compared against the stored digest (`client-secret.ts`).
 *  - Grants that act without a user at the consent page — client credentials (a service identity
 *    with a role) and the JWT bearer grant (enterprise ID-JAG) — are for operator-registered clients
 *    only (`sekisho clients add`): a dynamic registration or a metadata document naming them is
 *    refused, so no client can give itself a role.
 */
import type { ClientMetadata, Provider } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { DISPLAY_NAME_MAX } from '../ui/display-text.ts';
import { clientSecretMatches } from './client-secret.ts';
import { OPERATOR_ONLY_GRANTS } from './grant-types.ts';

export const MAX_REDIRECT_URIS = 10;
export const MAX_METADATA_BYTES = 16 * 1024;

/** Built-in first-party client that `issueAccessToken` mints tokens for (demo quick_login, tests). */
export const QUICK_LOGIN_CLIENT_ID = 'sekisho-quick-login';

export const BUILT_IN_CLIENTS: readonly ClientMetadata[] = Object.freeze([
  {
    client_id: QUICK_LOGIN_CLIENT_ID,
    client_name: 'Sekisho quick login',
    token_endpoint_auth_method: 'none',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
  },
]);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

interface RouteContext {
  oidc?: { route?: string; body?: unknown };
}

/**
 * oidc-provider `extraClientMetadata`: registering `scope` as "extra" metadata gives us the
 * documented validator hook, which may modify any metadata before oidc-provider validates it.
 */
export const clientMetadataPolicy = {
  properties: ['scope'],
  validator(ctx: unknown, key: string, _value: unknown, metadata: Record<string, unknown>): void {
    if (key !== 'scope') return;
    delete metadata.scope;
    const uris = Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : [];
    for (const uri of uris) {
      const parsed = typeof uri === 'string' ? URL.parse(uri) : null;
      if (parsed?.protocol === 'http:' && !LOOPBACK_HOSTS.has(parsed.hostname)) {
        throw new errors.InvalidClientMetadata(
          'redirect_uris using http must use a loopback host (127.0.0.1, [::1] or localhost); use https',
        );
      }
    }
    const oidc = (ctx as RouteContext | undefined)?.oidc;
    const selfRegistered =
      oidc?.route === 'registration' || URL.parse(String(metadata.client_id ?? ''))?.protocol === 'https:';
    const grants = Array.isArray(metadata.grant_types) ? metadata.grant_types : [];
    const reserved = grants.filter((g) => OPERATOR_ONLY_GRANTS.includes(g as string));
    if (selfRegistered && reserved.length > 0) {
      throw new errors.InvalidClientMetadata(
        `grant_types ${reserved.join(', ')} are for clients an operator registers (sekisho clients add)`,
      );
    }
    if (oidc?.route !== 'registration') return;
    // Shown on the consent and account pages: refused when too long at registration (clients stored
    // earlier and metadata documents are truncated for display instead, by ui/display-text.ts).
    if (
      typeof metadata.client_name === 'string' &&
      Array.from(metadata.client_name).length > DISPLAY_NAME_MAX
    ) {
      throw new errors.InvalidClientMetadata(`client_name must not exceed ${DISPLAY_NAME_MAX} characters`);
    }
    if (uris.length > MAX_REDIRECT_URIS) {
      throw new errors.InvalidClientMetadata(
        `redirect_uris must not list more than ${MAX_REDIRECT_URIS} URIs`,
      );
    }
    if (Buffer.byteLength(JSON.stringify(oidc.body ?? {})) > MAX_METADATA_BYTES) {
      throw new errors.InvalidClientMetadata(`client metadata must not exceed ${MAX_METADATA_BYTES} bytes`);
    }
  },
};

/** The loopback form of a redirect URI without its port, or undefined when it is not loopback http. */
export function loopbackWithoutPort(uri: string): string | undefined {
  const url = URL.parse(uri);
  if (url?.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  url.port = '';
  return url.href;
}

/**
 * Extends oidc-provider's Client model in place (the model class is per provider instance):
 * loopback redirect URIs on any port, and hashed client secrets.
 */
export function extendClientModel(provider: Provider): void {
  const proto = provider.Client.prototype as unknown as {
    redirectUriAllowed(value: string): boolean;
    compareClientSecret(actual: string): Promise<boolean> | boolean;
    redirectUris?: string[];
    clientSecret?: string;
  };
  const exactMatch = proto.redirectUriAllowed;
  proto.redirectUriAllowed = function redirectUriAllowed(value: string): boolean {
    if (exactMatch.call(this, value)) return true;
    const wanted = loopbackWithoutPort(value);
    return wanted !== undefined && (this.redirectUris ?? []).some((r) => loopbackWithoutPort(r) === wanted);
  };
  proto.compareClientSecret = function compareClientSecret(actual: string): boolean {
    return clientSecretMatches(this.clientSecret, actual);
  };
}
