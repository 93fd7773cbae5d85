/**
 * The device flow from both ends, for tests: the device (start, poll) and the person at a browser
 * who types the code on /device, signs in, checks the request and allows or denies. The browser part
 * walks Sekisho's real pages with a cookie jar, submitting their forms as a user would; every page
 * seen is kept. Bounded: at most `maxSteps` requests.
 */
import { CookieJar, parseForms } from './browserless-login.ts';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceAuthorization {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete: string;
  readonly expires_in: number;
  readonly interval: number;
}

/** A public device-flow client, registered the way a CLI agent would. */
export async function registerDeviceClient(baseUrl: string, name = 'CLI agent'): Promise<string> {
  const res = await fetch(`${baseUrl}/oauth/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    }),
  });
  const body = (await res.json()) as { client_id?: string };
  if (res.status !== 201 || !body.client_id) throw new Error(`registration failed: ${res.status}`);
  return body.client_id;
}

export async function startDeviceAuthorization(
  baseUrl: string,
  params: Record<string, string>,
): Promise<{ status: number; body: DeviceAuthorization & { error?: string } }> {
  const res = await fetch(`${baseUrl}/oauth/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: (await res.json()) as DeviceAuthorization };
}

export interface DevicePage {
  readonly url: string;
  readonly status: number;
  readonly html: string;
}

export interface ApproveOptions {
  readonly username: string;
  readonly password: string;
  /** What to answer on the "is this your device?" page (default 'allow'). */
  readonly confirm?: 'allow' | 'deny';
  /** What to answer on the consent page (default 'allow'). */
  readonly consent?: 'allow' | 'deny';
  readonly jar?: CookieJar;
  readonly acceptLanguage?: string;
  readonly maxSteps?: number;
}

/**
 * Types `userCode` on /device and goes through whatever follows until a page with no form to submit
 * (the done page, the denied page, an error). Returns every page seen; the last is where it stopped.
 */
export async function approveDevice(
  baseUrl: string,
  userCode: string,
  opts: ApproveOptions,
): Promise<{ pages: DevicePage[]; jar: CookieJar; last: DevicePage }> {
  const jar = opts.jar ?? new CookieJar();
  const headers: Record<string, string> = opts.acceptLanguage
    ? { 'accept-language': opts.acceptLanguage }
    : {};
  const pages: DevicePage[] = [];
  let next: { url: URL; init: RequestInit } = { url: new URL(`${baseUrl}/device`), init: { headers } };
  let typed = false;
  for (let step = 0; step < (opts.maxSteps ?? 20); step++) {
    const res = await jar.fetch(next.url, next.init);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      next = { url: new URL(location, next.url), init: { headers } };
      continue;
    }
    const html = await res.text();
    const page = { url: next.url.href, status: res.status, html };
    pages.push(page);
    const forms = parseForms(html);
    const post = (action: string, fields: Record<string, string>) => {
      next = {
        url: new URL(action, next.url),
        init: {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(fields).toString(),
        },
      };
    };
    const entry = forms.find(
      (f) => f.action.endsWith('/device') && !('confirm' in f.fields) && !('abort' in f.fields),
    );
    const allow = forms.find((f) => f.fields.confirm === 'yes');
    const abort = forms.find((f) => f.fields.abort === 'yes');
    const login = forms.find((f) => f.action.endsWith('/login'));
    const consent = forms.find((f) => f.action.endsWith('/consent'));
    const deny = forms.find((f) => f.action.endsWith('/abort'));
    if (entry && !typed && res.status === 200) {
      typed = true;
      post(entry.action, { ...entry.fields, user_code: userCode });
    } else if (allow && abort) {
      const chosen = (opts.confirm ?? 'allow') === 'allow' ? allow : abort;
      post(chosen.action, chosen.fields);
    } else if (login) {
      post(login.action, { ...login.fields, username: opts.username, password: opts.password });
    } else if (consent && (opts.consent ?? 'allow') === 'allow') {
      post(consent.action, consent.fields);
    } else if (consent && deny) {
      post(deny.action, deny.fields);
    } else {
      return { pages, jar, last: page };
    }
  }
  throw new Error(`device approval did not settle within ${opts.maxSteps ?? 20} steps`);
}

export async function pollDeviceToken(
  baseUrl: string,
  clientId: string,
  deviceCode: string,
): Promise<{ status: number; body: Record<string, unknown> & { error?: string } }> {
  const res = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: DEVICE_GRANT,
      client_id: clientId,
      device_code: deviceCode,
    }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
