/**
 * The doctor's HTTP client. It talks to a deployment it does not trust, so every request is bounded:
 * a per-request timeout that never outlives the run's deadline, a response-size cap, no automatic
 * redirects (callers follow them through `follow`, which refuses to leave https except for loopback
 * hosts), and no cookies, credentials or tokens sent anywhere but where a step put them.
 *
 * `connectTo` is curl's `--connect-to`: the URL (and so the Host header, TLS SNI and certificate
 * check) keeps its name while the TCP connection goes elsewhere — to check a deployment before its
 * DNS points at it, or, in tests, to reach a loopback server under a public name.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';

export const MAX_RESPONSE_BYTES = 1024 * 1024;
export const MAX_REDIRECTS = 5;

export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  /** Lower-case names; repeated headers (set-cookie) joined only in `setCookies`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly setCookies: readonly string[];
  readonly body: string;
  /** Local time when the answer arrived, for the clock-skew check. */
  readonly receivedAt: number;
}

export type HttpFailureKind =
  | 'timeout'
  | 'network'
  | 'tls'
  | 'too_large'
  | 'redirect_refused'
  | 'too_many_redirects';

export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
  readonly kind: HttpFailureKind;
  readonly url: string;
  constructor(kind: HttpFailureKind, url: string, message: string) {
    super(message);
    this.kind = kind;
    this.url = url;
  }
}

export interface ConnectTo {
  readonly host: string;
  readonly port: string;
  readonly toHost: string;
  readonly toPort: string;
}

/** Parses curl-style `HOST1:PORT1:HOST2:PORT2` (empty HOST1/PORT1 match any); IPv6 in brackets. */
export function parseConnectTo(value: string): ConnectTo | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]*):(\d*):(\[[^\]]+\]|[^:[\]]+):(\d*)$/.exec(value.trim());
  if (!match) return undefined;
  const [, host = '', port = '', toHost = '', toPort = ''] = match;
  return { host: host.toLowerCase(), port, toHost: toHost.replace(/^\[|\]$/g, ''), toPort };
}

export interface HttpOptions {
  /** Epoch ms after which no request may run. */
  readonly deadline: number;
  readonly requestTimeoutMs: number;
  readonly connectTo?: readonly ConnectTo[];
  readonly userAgent?: string;
  /** Extra trusted CA certificates (PEM), added to Node's roots: `--cacert` for a private CA. */
  readonly extraCa?: string;
}

export interface RequestSpec {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export class DoctorHttp {
  private readonly opts: HttpOptions;
  constructor(opts: HttpOptions) {
    this.opts = opts;
  }

  /** Time left before the run's deadline, in ms (never negative). */
  remaining(): number {
    return Math.max(0, this.opts.deadline - Date.now());
  }

  request(url: string, spec: RequestSpec = {}): Promise<HttpResponse> {
    const target = new URL(url);
    const timeout = Math.min(this.opts.requestTimeoutMs, this.remaining());
    if (timeout <= 0)
      return Promise.reject(new HttpFailure('timeout', url, 'the doctor ran out of time (--timeout)'));
    const secure = target.protocol === 'https:';
    const port = target.port || (secure ? '443' : '80');
    const route = this.opts.connectTo?.find(
      (c) => (c.host === '' || c.host === target.hostname) && (c.port === '' || c.port === port),
    );
    const lookup: LookupFunction | undefined = route
      ? (_host, options, callback) => {
          const family = route.toHost.includes(':') ? 6 : 4;
          if ((options as { all?: boolean }).all) callback(null, [{ address: route.toHost, family }]);
          else callback(null, route.toHost, family);
        }
      : undefined;
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
    const headers: Record<string, string> = {
      'user-agent': this.opts.userAgent ?? 'sekisho-doctor',
      ...spec.headers,
      ...(body ? { 'content-length': String(body.length) } : {}),
    };
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          protocol: target.protocol,
          hostname: target.hostname.replace(/^\[|\]$/g, ''),
          port: route?.toPort || port,
          path: `${target.pathname}${target.search}`,
          method: spec.method ?? 'GET',
          headers: { host: target.host, ...headers },
          ...(lookup ? { lookup } : {}),
          // SNI carries names only (RFC 6066 §3); the certificate is still checked against the IP.
          ...(secure && isIP(target.hostname.replace(/^\[|\]$/g, '')) === 0
            ? { servername: target.hostname }
            : {}),
          ...(secure && this.opts.extraCa ? { ca: [...rootCertificates, this.opts.extraCa] } : {}),
          agent: false,
          signal: AbortSignal.timeout(timeout),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(
                new HttpFailure('too_large', url, `answer larger than ${MAX_RESPONSE_BYTES} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const flat: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              url,
              status: res.statusCode ?? 0,
              headers: flat,
              setCookies: res.headers['set-cookie'] ?? [],
              body: Buffer.concat(chunks).toString('utf8'),
              receivedAt: Date.now(),
            });
          });
          res.on('error', (error) => reject(asFailure(error, url)));
        },
      );
      req.on('error', (error) => reject(asFailure(error, url)));
      req.end(body);
    });
  }

  /**
   * GET, following at most MAX_REDIRECTS redirects (as clients' fetch does for metadata), each
   * checked by `redirectRefusal`. `stopAt`
   * ends the walk without fetching (the dry run's own loopback redirect URI). Cookies set along the
   * way are sent back to the same origin only, and only within this walk.
   */
  async follow(
    url: string,
    opts: { stopAt?: (location: URL) => boolean; headers?: Readonly<Record<string, string>> } = {},
  ): Promise<{ response: HttpResponse; hops: readonly string[]; stoppedAt?: URL }> {
    const jar = new Map<string, Map<string, string>>();
    const hops: string[] = [];
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const origin = new URL(current).origin;
      const cookies = [...(jar.get(origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
      const response = await this.request(current, {
        headers: { ...opts.headers, ...(cookies ? { cookie: cookies } : {}) },
      });
      for (const line of response.setCookies) {
        const pair = line.split(';', 1)[0] ?? '';
        const eq = pair.indexOf('=');
        if (eq > 0) {
          const forOrigin = jar.get(origin) ?? new Map<string, string>();
          forOrigin.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
          jar.set(origin, forOrigin);
        }
      }
      const location = response.headers.location;
      if (response.status < 300 || response.status >= 400 || location === undefined)
        return { response, hops };
      const next = new URL(location, current);
      if (opts.stopAt?.(next)) return { response, hops, stoppedAt: next };
      const refusal = redirectRefusal(new URL(current), next);
      if (refusal) throw new HttpFailure('redirect_refused', current, refusal);
      hops.push(next.href);
      current = next.href;
    }
    throw new HttpFailure('too_many_redirects', url, `more than ${MAX_REDIRECTS} redirects`);
  }
}

/** Hosts where plain http is acceptable (OAuth 2.1 §8.4.2, MCP: http only on loopback). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** Why a redirect must not be followed, or undefined when it may. */
export function redirectRefusal(from: URL, to: URL): string | undefined {
  if (to.protocol !== 'https:' && to.protocol !== 'http:')
    return `redirect to a non-web scheme (${to.protocol})`;
  if (to.protocol === 'http:' && !isLoopbackHost(to.hostname))
    return `redirect to plain http on a public host (${to.origin})`;
  if (from.protocol === 'https:' && to.protocol === 'http:' && !isLoopbackHost(from.hostname))
    return `redirect from https down to http (${to.origin})`;
  return undefined;
}

function asFailure(error: unknown, url: string): HttpFailure {
  if (error instanceof HttpFailure) return error;
  const err = error as NodeJS.ErrnoException & { name?: string };
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return new HttpFailure('timeout', url, 'no answer in time');
  const code = err.code ?? '';
  if (
    /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code) ||
    /certificate/i.test(err.message ?? '')
  )
    return new HttpFailure('tls', url, `TLS failed: ${code || err.message}`);
  return new HttpFailure('network', url, code ? `${code}: ${err.message}` : (err.message ?? String(error)));
}

/** JSON body as an object, or undefined (not JSON, or not an object). */
export function jsonObject(response: HttpResponse): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(response.body);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
