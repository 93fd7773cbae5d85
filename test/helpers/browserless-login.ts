/**
 * Drives Sekisho's real login and consent pages without a browser: a tiny cookie jar over fetch with
 * `redirect: 'manual'`, following 30x hops and submitting the HTML forms (CSRF token included) the
 * way a user would. It stops at the first redirect that leaves the authorization server (the
 * client's redirect_uri) and returns that URL, so a test — or an MCP client's `finishAuth` — can read
 * `code`, `state` and `iss` from it.
 *
 *   const { callback } = await browserlessLogin(authorizeUrl, { username: 'demo', password: 'demo123' });
 *   await transport.finishAuth(callback.searchParams.get('code')!);
 *
 * Every page seen is kept (`pages`) so a test can assert on the HTML. Bounded: at most `maxSteps`
 * requests.
 */

/** Cookies by name, per host, without Path/Expiry subtleties (tests talk to one loopback server). */
export class CookieJar {
  readonly #cookies = new Map<string, Map<string, string>>();

  store(url: string | URL, res: Response): void {
    const host = new URL(url).host;
    const jar = this.#cookies.get(host) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      if (i <= 0) continue;
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    this.#cookies.set(host, jar);
  }

  header(url: string | URL): string | undefined {
    const jar = this.#cookies.get(new URL(url).host);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  names(url: string | URL): string[] {
    return [...(this.#cookies.get(new URL(url).host)?.keys() ?? [])];
  }

  /** fetch with this jar: sends its cookies, keeps the ones set, never follows redirects. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, res);
    return res;
  }
}

export interface HtmlForm {
  readonly action: string;
  readonly fields: Record<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' };
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_, e: string) => ENTITIES[e]!);

/** The POST forms on a page with their hidden fields. */
export function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const fields: Record<string, string> = {};
    for (const input of m[2]!.matchAll(/<input\b[^>]*>/g)) {
      const tag = input[0];
      const name = /\bname="([^"]*)"/.exec(tag)?.[1];
      const type = /\btype="([^"]*)"/.exec(tag)?.[1];
      const value = /\bvalue="([^"]*)"/.exec(tag)?.[1] ?? '';
      if (name && type === 'hidden') fields[decode(name)] = decode(value);
    }
    forms.push({ action: decode(m[1]!), fields });
  }
  return forms;
}

export interface BrowserlessLoginOptions {
  readonly username: string;
  readonly password: string;
  /** What to answer on the consent page (default 'allow'). */
  readonly consent?: 'allow' | 'deny';
  /** Tick "remember my decision" (default false). */
  readonly remember?: boolean;
  /** Reuse a jar (an existing sign-in session); a new one otherwise. */
  readonly jar?: CookieJar;
  /** Where the flow is done; default: the first redirect to another origin than the first URL's. */
  readonly stopAt?: (url: URL) => boolean;
  readonly maxSteps?: number;
  readonly acceptLanguage?: string;
}

export interface BrowserlessLoginResult {
  /** The redirect that left the authorization server (carries code/state/iss or error). */
  readonly callback: URL;
  readonly jar: CookieJar;
  /** Every HTML page seen, in order, with its status. */
  readonly pages: readonly { readonly url: string; readonly status: number; readonly html: string }[];
}

export class BrowserlessLoginError extends Error {
  override readonly name = 'BrowserlessLoginError';
  readonly pages: BrowserlessLoginResult['pages'];
  constructor(message: string, pages: BrowserlessLoginResult['pages']) {
    super(message);
    this.pages = pages;
  }
}

export async function browserlessLogin(
  authorizeUrl: string | URL,
  opts: BrowserlessLoginOptions,
): Promise<BrowserlessLoginResult> {
  const jar = opts.jar ?? new CookieJar();
  const start = new URL(authorizeUrl);
  const stopAt = opts.stopAt ?? ((u: URL) => u.origin !== start.origin);
  const pages: { url: string; status: number; html: string }[] = [];
  const headers = opts.acceptLanguage ? { 'accept-language': opts.acceptLanguage } : undefined;
  let next: { url: URL; init: RequestInit } = { url: start, init: { headers } };

  for (let step = 0; step < (opts.maxSteps ?? 20); step++) {
    const res = await jar.fetch(next.url, next.init);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const target = new URL(location, next.url);
      if (stopAt(target)) return { callback: target, jar, pages };
      next = { url: target, init: { headers } };
      continue;
    }
    const html = await res.text();
    pages.push({ url: next.url.href, status: res.status, html });
    if (res.status !== 200) {
      throw new BrowserlessLoginError(`unexpected ${res.status} at ${next.url.pathname}`, pages);
    }
    const forms = parseForms(html);
    const login = forms.find((f) => f.action.endsWith('/login'));
    const consent = forms.find((f) => f.action.endsWith('/consent'));
    const deny = forms.find((f) => f.action.endsWith('/abort'));
    let body: URLSearchParams;
    let action: string;
    if (login) {
      action = login.action;
      body = new URLSearchParams({ ...login.fields, username: opts.username, password: opts.password });
    } else if (consent && (opts.consent ?? 'allow') === 'allow') {
      action = consent.action;
      body = new URLSearchParams({ ...consent.fields, ...(opts.remember ? { remember: '1' } : {}) });
    } else if (consent && deny) {
      action = deny.action;
      body = new URLSearchParams(deny.fields);
    } else {
      throw new BrowserlessLoginError(`no login or consent form at ${next.url.pathname}`, pages);
    }
    next = {
      url: new URL(action, next.url),
      init: {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      },
    };
  }
  throw new BrowserlessLoginError(
    `no redirect back to the client within ${opts.maxSteps ?? 20} steps`,
    pages,
  );
}
