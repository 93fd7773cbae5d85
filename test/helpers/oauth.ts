/**
 * Small OAuth client steps for tests, spelled out so each test shows exactly what goes on the wire:
 * PKCE pairs, dynamic registration, the authorize URL, code exchange, refresh. The browser part is
 * `browserless-login.ts`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type BrowserlessLoginOptions, browserlessLogin } from './browserless-login.ts';

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface RegisteredClient {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly redirect_uris: string[];
  // biome-ignore lint/suspicious/noExplicitAny: registration responses carry arbitrary metadata.
  readonly [key: string]: any;
}

export const DEFAULT_REDIRECT = 'http://127.0.0.1:53682/callback';

/** RFC 7591 registration of a public client the way MCP SDK clients send it. */
export async function registerClient(
  baseUrl: string,
  metadata: Record<string, unknown> = {},
): Promise<RegisteredClient> {
  const res = await fetch(`${baseUrl}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Test client',
      redirect_uris: [DEFAULT_REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...metadata,
    }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(body)}`);
  return body as RegisteredClient;
}

export interface AuthorizeParams {
  readonly clientId: string;
  readonly redirectUri?: string;
  readonly challenge?: string;
  readonly method?: string;
  readonly scope?: string;
  readonly state?: string;
  readonly resource?: string;
  readonly prompt?: string;
  readonly extra?: Record<string, string>;
}

export function authorizeUrl(baseUrl: string, p: AuthorizeParams): URL {
  const url = new URL(`${baseUrl}/oauth/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri ?? DEFAULT_REDIRECT);
  if (p.challenge) url.searchParams.set('code_challenge', p.challenge);
  if (p.challenge || p.method) url.searchParams.set('code_challenge_method', p.method ?? 'S256');
  if (p.scope !== undefined) url.searchParams.set('scope', p.scope);
  if (p.state !== undefined) url.searchParams.set('state', p.state);
  if (p.resource !== undefined) url.searchParams.set('resource', p.resource);
  if (p.prompt !== undefined) url.searchParams.set('prompt', p.prompt);
  for (const [k, v] of Object.entries(p.extra ?? {})) url.searchParams.set(k, v);
  return url;
}

export interface TokenResponse {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: token responses are checked field by field in tests.
  readonly body: any;
}

export async function tokenRequest(
  baseUrl: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TokenResponse> {
  const res = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export function exchangeCode(
  baseUrl: string,
  p: { clientId: string; code: string; verifier?: string; redirectUri?: string; resource?: string },
): Promise<TokenResponse> {
  return tokenRequest(baseUrl, {
    grant_type: 'authorization_code',
    client_id: p.clientId,
    code: p.code,
    redirect_uri: p.redirectUri ?? DEFAULT_REDIRECT,
    ...(p.verifier ? { code_verifier: p.verifier } : {}),
    ...(p.resource ? { resource: p.resource } : {}),
  });
}

export function refresh(
  baseUrl: string,
  p: { clientId: string; refreshToken: string; resource?: string; scope?: string },
): Promise<TokenResponse> {
  return tokenRequest(baseUrl, {
    grant_type: 'refresh_token',
    client_id: p.clientId,
    refresh_token: p.refreshToken,
    ...(p.resource ? { resource: p.resource } : {}),
    ...(p.scope ? { scope: p.scope } : {}),
  });
}

/**
 * The whole dance for a fresh public client: register, authorize through the real pages as the
 * given user, exchange the code. Returns the client, the token response and the callback URL.
 */
export async function signIn(
  baseUrl: string,
  login: Pick<BrowserlessLoginOptions, 'username' | 'password'> & Partial<BrowserlessLoginOptions>,
  opts: { scope?: string; resource?: string; client?: RegisteredClient; state?: string } = {},
) {
  const client = opts.client ?? (await registerClient(baseUrl));
  const { verifier, challenge } = pkce();
  const redirectUri = client.redirect_uris[0]!;
  const url = authorizeUrl(baseUrl, {
    clientId: client.client_id,
    redirectUri,
    challenge,
    scope: opts.scope,
    state: opts.state ?? 'st-1',
    resource: opts.resource ?? `${baseUrl}/mcp`,
  });
  const flow = await browserlessLogin(url, login);
  const code = flow.callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${flow.callback.href}`);
  const tokens = await exchangeCode(baseUrl, {
    clientId: client.client_id,
    code,
    verifier,
    redirectUri,
    resource: opts.resource ?? `${baseUrl}/mcp`,
  });
  return { client, flow, tokens, verifier, code };
}
