/**
 * Drives a federated sign-in without a browser: Sekisho's login page → "Sign in with <provider>" →
 * the foreign provider's form (foreign-provider.ts) → back to Sekisho's callback → consent → the
 * client's redirect URI. One cookie jar for both servers (cookies kept per host), redirects followed
 * by hand, so a test can look at — or tamper with — the hop to the provider and the hop back.
 */
import { BrowserlessLoginError, CookieJar, parseForms } from './browserless-login.ts';

export interface FederatedLoginOptions {
  readonly username: string;
  readonly password: string;
  /** The Sekisho origin (where the login, callback and consent pages live). */
  readonly sekisho: string;
  /** Which "Sign in with …" button: the provider id in its form action; default the first. */
  readonly provider?: string;
  readonly jar?: CookieJar;
  /** Sees (and may replace) the redirect to the provider's authorization endpoint. */
  readonly toProvider?: (url: URL) => URL;
  /** Sees (and may replace) the provider's redirect back to Sekisho's callback. */
  readonly toCallback?: (url: URL) => URL;
  readonly consent?: 'allow' | 'deny';
  readonly maxSteps?: number;
}

export interface FederatedLoginResult {
  /** The redirect to the MCP client (code, state, iss). */
  readonly callback: URL;
  /** The provider's redirect to Sekisho's callback, as it was sent (before `toCallback`). */
  readonly upstreamCallback: URL | undefined;
  readonly jar: CookieJar;
  readonly pages: { url: string; status: number; html: string }[];
}

const CALLBACK_PATH = '/upstream/callback';

export async function federatedLogin(
  authorizeUrl: string | URL,
  opts: FederatedLoginOptions,
): Promise<FederatedLoginResult> {
  const jar = opts.jar ?? new CookieJar();
  const sekisho = new URL(opts.sekisho).origin;
  const start = new URL(authorizeUrl);
  const pages: { url: string; status: number; html: string }[] = [];
  let upstreamOrigin: string | undefined;
  let upstreamCallback: URL | undefined;
  // As a browser asks: error answers come as HTML pages.
  const browser = { accept: 'text/html,application/xhtml+xml' };
  let next: { url: URL; init: RequestInit } = { url: start, init: { headers: browser } };
  const form = (action: string, fields: Record<string, string>) => ({
    url: new URL(action, next.url),
    init: {
      method: 'POST',
      headers: { ...browser, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    },
  });

  for (let step = 0; step < (opts.maxSteps ?? 30); step++) {
    const res = await jar.fetch(next.url, next.init);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      let target = new URL(location, next.url);
      const fromSekisho = next.url.origin === sekisho;
      if (
        fromSekisho &&
        target.origin !== sekisho &&
        upstreamOrigin === undefined &&
        next.init.method === 'POST'
      ) {
        // The answer to "Sign in with …": the provider's authorization request.
        upstreamOrigin = target.origin;
        target = opts.toProvider?.(target) ?? target;
      } else if (target.origin === sekisho && target.pathname === CALLBACK_PATH) {
        upstreamCallback = target;
        target = opts.toCallback?.(target) ?? target;
      } else if (target.origin !== sekisho && target.origin !== upstreamOrigin) {
        return { callback: target, upstreamCallback, jar, pages };
      }
      next = { url: target, init: { headers: browser } };
      continue;
    }
    const html = await res.text();
    pages.push({ url: next.url.href, status: res.status, html });
    if (res.status !== 200) {
      throw new BrowserlessLoginError(`unexpected ${res.status} at ${next.url.pathname}`, pages);
    }
    const forms = parseForms(html);
    if (next.url.origin === sekisho) {
      const upstream = forms.find(
        (f) => f.action.includes('/upstream/') && (!opts.provider || f.action.endsWith(`/${opts.provider}`)),
      );
      const consent = forms.find((f) => f.action.endsWith('/consent'));
      const deny = forms.find((f) => f.action.endsWith('/abort'));
      if (upstream) next = form(upstream.action, upstream.fields);
      else if (consent && (opts.consent ?? 'allow') === 'allow') next = form(consent.action, consent.fields);
      else if (consent && deny) next = form(deny.action, deny.fields);
      else
        throw new BrowserlessLoginError(`no sign-in button or consent form at ${next.url.pathname}`, pages);
    } else {
      const login = forms.find((f) => f.action.endsWith('/login'));
      if (!login) throw new BrowserlessLoginError(`no form at the provider's ${next.url.pathname}`, pages);
      next = form(login.action, { ...login.fields, username: opts.username, password: opts.password });
    }
  }
  throw new BrowserlessLoginError('no redirect back to the client', pages);
}
