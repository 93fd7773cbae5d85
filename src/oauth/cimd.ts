/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a `client_id` that
 * is an https URL is resolved by fetching that URL. oidc-provider implements the protocol
 * (`features.clientIdMetadataDocument`): https-only client ids, `client_id` in the document must equal
 * the URL, no shared-secret auth methods, no redirects followed (`redirect: 'manual'`, any non-200 is
 * refused), a 5 KB body limit, a 2.5 s timeout, and a bounded LRU cache honouring Cache-Control /
 * Expires within `cacheDuration`. Its fetch also destroys any socket that connects to a special-use
 * address, which defeats DNS rebinding between our check and the connect.
 *
 * What we add, through its `allowFetch` hook and `fetch` option:
 *  - resolve the host first and refuse private, loopback, link-local, multicast and other
 *    special-use addresses with a clear `invalid_client` (defence in depth, and a fast answer);
 *  - a development allowlist (SEKISHO_CIMD_ALLOW_HOSTS) of host[:port] values exempt from that
 *    rule; an allow-listed *loopback* host is fetched over plain http, because a test server on
 *    127.0.0.1 has no certificate. Never set it in production.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { Logger } from '../observability/logger.ts';

const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT, RFC 6598
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata endpoints live here)
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.31.196.0', 24], // AS112-v4 (RFC 7535): reverse-DNS sink, no documents live there
  ['192.52.193.0', 24], // AMT relay anycast (RFC 7450)
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated, RFC 7526)
  ['192.168.0.0', 16], // RFC 1918
  ['192.175.48.0', 24], // AS112 direct delegation (RFC 7534)
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified (::/128), loopback (::1/128), IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
  ['64:ff9b::', 96], // NAT64 (would reach any IPv4 address, private ones included)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['100:0:0:1::', 64], // dummy prefix (RFC 9780)
  ['2001::', 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID, AMT, drone ids…)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['2620:4f:8000::', 48], // AS112-v6
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // SRv6 SIDs (RFC 9602)
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, RFC 3879; still routed inside some networks)
  ['ff00::', 8], // multicast
] as const) {
  SPECIAL_USE.addSubnet(net, prefix, 'ipv6');
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for any address a client metadata fetch must never reach. */
export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return SPECIAL_USE.check(address, 'ipv4');
  if (family !== 6) return true;
  // IPv4-mapped (::ffff:0:0/96) in any spelling is judged as the IPv4 address it carries; the URL
  // parser gives the canonical form (::ffff:127.0.0.1 → ::ffff:7f00:1).
  const canonical = URL.parse(`http://[${address}]/`)?.hostname.slice(1, -1) ?? '';
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const bits = (Number.parseInt(mapped[1]!, 16) << 16) | Number.parseInt(mapped[2]!, 16);
    const v4 = [24, 16, 8, 0].map((shift) => (bits >>> shift) & 255).join('.');
    return SPECIAL_USE.check(v4, 'ipv4');
  }
  return SPECIAL_USE.check(address, 'ipv6');
}

export interface CimdPolicy {
  /** oidc-provider `features.clientIdMetadataDocument.allowFetch`. */
  allowFetch(ctx: unknown, clientId: string): Promise<boolean>;
  /** oidc-provider `fetch` option (used for CIMD only: jwks_uri and sector URIs are not enabled). */
  fetch(url: URL | string, options: RequestInit & { dispatcher?: unknown }): Promise<Response>;
}

export function createCimdPolicy(opts: {
  readonly allowHosts: readonly string[];
  readonly logger: Logger;
  readonly resolve?: (hostname: string) => Promise<string[]>;
}): CimdPolicy {
  const allowed = new Set(opts.allowHosts.map((h) => h.toLowerCase()));
  const resolve = opts.resolve ?? defaultResolve;
  const isAllowListed = (url: URL) => allowed.has(url.host.toLowerCase()) || allowed.has(url.hostname);

  return {
    async allowFetch(_ctx, clientId) {
      let url: URL;
      try {
        url = new URL(clientId);
      } catch {
        return false;
      }
      if (isAllowListed(url)) return true;
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      try {
        const addresses = isIP(hostname) ? [hostname] : await resolve(hostname);
        if (addresses.length === 0 || addresses.some(isSpecialUseAddress)) {
          opts.logger.warn({ host: url.host }, 'client metadata document refused: special-use address');
          return false;
        }
        return true;
      } catch {
        opts.logger.info({ host: url.host }, 'client metadata document host does not resolve');
        return false;
      }
    },
    fetch(input, options) {
      const url = new URL(String(input));
      if (isAllowListed(url)) {
        // Development only: skip oidc-provider's special-use socket guard, and reach a loopback
        // test server over http (it has no certificate).
        const { dispatcher: _dispatcher, ...rest } = options;
        if (LOOPBACK_NAMES.has(url.hostname)) url.protocol = 'http:';
        return globalThis.fetch(url, rest);
      }
      return globalThis.fetch(url, options as RequestInit);
    },
  };
}

async function defaultResolve(hostname: string): Promise<string[]> {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((r) => r.address);
}
