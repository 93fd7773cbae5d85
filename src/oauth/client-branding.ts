/**
 * Which of a client's self-asserted `client_uri` and `logo_uri` the consent page shows, and how.
 *
 * Both come from the client (dynamic registration or its metadata document) and prove nothing, so:
 * - the website is shown as its host, as text, with the "unverified" note — never a link, so a
 *   registration cannot plant a drive-by download one click from the Allow button (RFC 7591 §5);
 * - the logo is loaded only from https and only from a host the client has already proven or named
 *   for itself: the host of one of its redirect URIs (RFC 7591 §5 advises the same host as
 *   `redirect_uris`) or, for a metadata-document client, its `client_id` host. Anything else — a
 *   loopback-only app pointing at some third-party image host — shows no image: the request for it
 *   would tell that host who opened the consent page and when (a tracking pixel), and an image is the
 *   easiest way to impersonate another brand. The page's CSP allows exactly that one image origin.
 */
import { formTargetSource } from './page-http.ts';

const MAX_URI_LENGTH = 2048;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface ClientMetadataForPage {
  readonly clientId: string;
  readonly clientUri?: unknown;
  readonly logoUri?: unknown;
  readonly redirectUris?: readonly string[];
}

export interface ClientBranding {
  /** Host of `client_uri` (https, or http on a loopback host). */
  readonly websiteHost?: string;
  /** `logo_uri`, when it may be loaded (see above). */
  readonly logoUrl?: string;
  /** The CSP img-src source that lets the page load it. */
  readonly logoOrigin?: string;
}

function parse(value: unknown): URL | undefined {
  if (typeof value !== 'string' || value.length > MAX_URI_LENGTH) return undefined;
  const url = URL.parse(value);
  // Credentials in a URL are a classic disguise (https://bank.example@evil.example/).
  if (!url || url.username || url.password) return undefined;
  return url;
}

export function clientBranding(meta: ClientMetadataForPage): ClientBranding {
  const website = parse(meta.clientUri);
  const websiteOk =
    website &&
    (website.protocol === 'https:' || (website.protocol === 'http:' && LOOPBACK.has(website.hostname)));

  const ownHosts = new Set<string>();
  for (const uri of meta.redirectUris ?? []) {
    const url = parse(uri);
    if (url?.protocol === 'https:') ownHosts.add(url.host);
  }
  const idUrl = parse(meta.clientId);
  if (idUrl?.protocol === 'https:') ownHosts.add(idUrl.host);
  const logo = parse(meta.logoUri);
  const logoOk = logo && logo.protocol === 'https:' && ownHosts.has(logo.host);

  return {
    websiteHost: websiteOk ? website.host : undefined,
    logoUrl: logoOk ? logo.href : undefined,
    logoOrigin: logoOk ? formTargetSource(logo.href) : undefined,
  };
}

/** Where the app's answers go, for people: the hosts (or schemes) of its redirect URIs. */
export function redirectHosts(redirectUris: readonly string[] | undefined): string[] {
  const hosts = new Set<string>();
  for (const uri of redirectUris ?? []) {
    const url = URL.parse(uri);
    if (url) hosts.add(url.host || url.protocol);
  }
  return [...hosts];
}
