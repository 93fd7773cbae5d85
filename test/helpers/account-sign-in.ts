/**
 * A user signing in on the account page (`/account`) over plain HTTP: GET the form (CSRF nonce
 * cookie + token), POST the credentials. That is a real password check through the server's hashing
 * pool, the same one the OAuth login page uses. `from` binds the client socket to a loopback address
 * (127.0.0.x), so many "users" can sign in from distinct client IPs on one machine.
 */
import { Agent, request } from 'node:http';

export interface SignInOutcome {
  /** 303 signed in, 401 wrong password, 429 throttled (or this address's share of checks), 503 full. */
  readonly status: number;
  /** Refused by the hashing pool before any check (counted against no one), whatever the status. */
  readonly busy: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly ms: number;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

function send(
  url: URL,
  opts: { method: string; from?: string; cookie?: string; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const req = request(
      url,
      {
        method: opts.method,
        headers,
        agent: new Agent({ keepAlive: false }),
        localAddress: opts.from,
        timeout: 60_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('sign-in request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The account page's sign-in form as one browser holds it: its nonce cookie and CSRF token. */
export interface SignInForm {
  readonly cookie: string;
  readonly csrf: string;
  readonly from?: string;
}

export async function openSignInForm(baseUrl: string, from?: string): Promise<SignInForm> {
  const page = await send(new URL('/account', baseUrl), { method: 'GET', from });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
  const cookies = ([] as string[]).concat(page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
  if (page.status !== 200 || !csrf) throw new Error(`account page answered ${page.status} without a form`);
  return { cookie: cookies.join('; '), csrf, ...(from !== undefined && { from }) };
}

/** Posts credentials with a form already opened (a script replaying one form, as an attacker would). */
export async function postSignIn(
  baseUrl: string,
  form: SignInForm,
  creds: { username: string; password: string },
): Promise<SignInOutcome> {
  const started = performance.now();
  const body = new URLSearchParams({ csrf: form.csrf, ...creds }).toString();
  const answer = await send(new URL('/account/login', baseUrl), {
    method: 'POST',
    from: form.from,
    cookie: form.cookie,
    body,
  });
  const retry = Number(answer.headers['retry-after']);
  return {
    status: answer.status,
    busy: /Many people are signing in|from your network are being checked/.test(answer.text),
    retryAfterSeconds: Number.isFinite(retry) && retry > 0 ? retry : undefined,
    ms: performance.now() - started,
  };
}

/** A whole sign-in as a browser does it: open the form, post it. `ms` covers both requests. */
export async function signInOnAccountPage(
  baseUrl: string,
  creds: { username: string; password: string; from?: string },
): Promise<SignInOutcome> {
  const started = performance.now();
  const form = await openSignInForm(baseUrl, creds.from);
  const outcome = await postSignIn(baseUrl, form, creds);
  return { ...outcome, ms: performance.now() - started };
}

/** The i-th of many distinct loopback client addresses (127.0.1.1, 127.0.1.2, …). */
export function loopbackAddress(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}
