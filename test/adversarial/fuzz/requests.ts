/**
 * What the fuzzer sends: one generator per surface (MCP in both eras, every /oauth endpoint, the
 * discovery documents, the login/consent/account pages, health and metrics, malformed HTTP on a
 * raw socket), each starting from a request the server would accept — real tokens, a live
 * interaction with its cookie and CSRF token, a registered client — and then broken in one or more
 * ways by `mutate`. Starting from valid requests is what gets the hostile input past the first
 * check and into the code behind it.
 */
import { gzipSync } from 'node:zlib';
import { FORMER_ROUTES, OAUTH_ROUTES } from '../../../src/oauth/routes.ts';
import {
  deepJson,
  mutatePath,
  mutateQuery,
  mutateText,
  ODD_NUMBERS,
  oddString,
  pct,
  randomJson,
  wireSafe,
} from './inputs.ts';
import type { Rng } from './random.ts';

export interface FuzzRequest {
  /** Which generator made it (reported with any failure). */
  readonly surface: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
  /** Bytes written as they are on a raw socket (malformed HTTP); the fields above are then unused. */
  raw?: Buffer;
}

/** What a generator may use to make its requests valid enough to reach deep code. */
export interface Credentials {
  readonly host: string;
  readonly mcpPath: string;
  /** A real access token for the demo user (authorization-code flow) and its client and refresh token. */
  readonly demoToken: string;
  /** A live 2025-era session opened with `demoToken`. */
  readonly demoSession: string;
  readonly clientId: string;
  readonly refreshToken: string;
  /** A token the server trusts for the admin user (every scope). */
  readonly adminToken: string;
  /** A live login interaction: its uid, the browser's cookies and the form's CSRF token. */
  readonly interaction: { readonly uid: string; readonly cookie: string; readonly csrf: string };
  /** The account page's sign-in form: its nonce cookie and CSRF token. */
  readonly account: { readonly cookie: string; readonly csrf: string };
  /** The admin console signed in as the demo admin: its account cookie and the console's CSRF token. */
  readonly admin: { readonly cookie: string; readonly csrf: string };
  /**
   * An `--enterprise` client and ID-JAG assertions from the target's trusted IdP: valid ones (each
   * works once, then is a replay) and near misses (wrong typ, alg none, HS256, expired, wrong aud,
   * another client's, an untrusted issuer), so the jwt-bearer grant is fuzzed past its first checks.
   */
  readonly enterprise: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly assertions: readonly string[];
  };
  /**
   * The target's upstream OpenID provider (a live foreign provider): its id on the login page and
   * its issuer, so "Sign in with …" and the callback are fuzzed past their first checks.
   */
  readonly upstream: { readonly id: string; readonly issuer: string };
}

const MODERN = '2026-07-28';
const LEGACY = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
const TOOLS = [
  'hello_world',
  'auth_status',
  'user_profile',
  'protected_data',
  'admin_panel',
  'oauth_info',
  'available_users',
  'quick_login',
  'no_such_tool',
];
const MCP_METHODS = [
  'tools/call',
  'tools/call',
  'tools/call',
  'tools/list',
  'server/discover',
  'initialize',
  'ping',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'sampling/createMessage',
  'rpc.discover',
  '',
];

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
const ODD_TYPES = [
  'application/json; charset=utf-16le',
  'application/json; charset=latin1',
  'application/json; charset=nonsense',
  'application/vnd.api+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'multipart/form-data',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'application/',
  ';;;',
  'application/json; boundary=',
  'APPLICATION/JSON',
];

export function bearer(rng: Rng, c: Credentials): Record<string, string> {
  return rng.weighted<() => Record<string, string>>([
    [4, () => ({ authorization: `Bearer ${c.demoToken}` })],
    [2, () => ({ authorization: `Bearer ${c.adminToken}` })],
    [3, () => ({})],
    [1, () => ({ authorization: `Bearer ${mutateText(rng, c.demoToken)}` })],
    [
      1,
      () => ({
        authorization: rng.pick([
          'Bearer',
          'Bearer ',
          'bearer x',
          'Basic Zm9vOmJhcg==',
          `Bearer ${c.demoToken} extra`,
          `Bearer ${'a'.repeat(9000)}`,
          'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
          `DPoP ${c.demoToken}`,
          'Negotiate x',
        ]),
      }),
    ],
  ])();
}

function toolArguments(rng: Rng, name: string): unknown {
  return rng.weighted<() => unknown>([
    [3, () => (name === 'hello_world' ? { name: oddString(rng) } : {})],
    [2, () => randomJson(rng, 3)],
    [1, () => ({ name: JSON.parse(deepJson(rng, rng.int(2, 70), '"x"')) })],
    [1, () => undefined],
    [1, () => rng.pick([null, [], 'args', 7])],
  ])();
}

function mcpParams(rng: Rng, method: string, modern: boolean): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (method === 'tools/call' || method === 'prompts/get') {
    const name = rng.pick(TOOLS);
    params.name = rng.chance(0.9) ? name : randomJson(rng, 1);
    const args = toolArguments(rng, name);
    if (args !== undefined) params.arguments = args;
  }
  if (method === 'resources/read')
    params.uri = rng.pick(['file:///etc/passwd', 'sekisho://x', oddString(rng)]);
  if (method === 'initialize') {
    params.protocolVersion = rng.pick([...LEGACY, MODERN, oddString(rng)]);
    params.capabilities = rng.chance(0.8) ? {} : randomJson(rng, 2);
    params.clientInfo = { name: oddString(rng), version: '1' };
  }
  if (method === 'tools/list' && rng.chance(0.2)) params.cursor = oddString(rng);
  if (method === 'logging/setLevel') params.level = rng.pick(['debug', 'emergency', oddString(rng)]);
  if (modern) {
    const meta: Record<string, unknown> = {
      'io.modelcontextprotocol/protocolVersion': rng.chance(0.95) ? MODERN : oddString(rng),
      'io.modelcontextprotocol/clientCapabilities': rng.chance(0.9) ? {} : randomJson(rng, 2),
      'io.modelcontextprotocol/clientInfo': rng.chance(0.9)
        ? { name: 'fuzz', version: '0' }
        : randomJson(rng, 2),
    };
    if (rng.chance(0.1)) meta.progressToken = randomJson(rng, 1);
    if (rng.chance(0.05)) delete meta['io.modelcontextprotocol/clientInfo'];
    params._meta = meta;
  }
  if (rng.chance(0.1)) params[oddString(rng).slice(0, 16)] = randomJson(rng, 2);
  return params;
}

function jsonRpc(rng: Rng, method: string, params: unknown): Record<string, unknown> {
  const message: Record<string, unknown> = {
    jsonrpc: rng.chance(0.97) ? '2.0' : rng.pick(['1.0', 2, null]),
    method,
  };
  if (!method.startsWith('notifications/'))
    message.id = rng.weighted<() => unknown>([
      [6, () => rng.int(0, 1_000_000)],
      [2, () => oddString(rng).slice(0, 40)],
      [1, () => randomJson(rng, 1)],
    ])();
  if (params !== undefined) message.params = params;
  return message;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) ?? 'null');
}

function mcpModern(rng: Rng, c: Credentials): FuzzRequest {
  const method = rng.pick(MCP_METHODS);
  const params = mcpParams(rng, method, true);
  const headers: Record<string, string> = {
    'content-type': rng.pick(JSON_TYPES),
    accept: rng.pick(['application/json, text/event-stream', 'application/json', 'text/event-stream', '*/*']),
    'mcp-protocol-version': MODERN,
    'mcp-method': rng.chance(0.9) ? method : wireSafe(oddString(rng)),
    ...bearer(rng, c),
  };
  const name =
    typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  if (name !== undefined && rng.chance(0.9)) headers['mcp-name'] = rng.chance(0.9) ? wireSafe(name) : 'other';
  return {
    surface: 'mcp-2026',
    method: 'POST',
    path: c.mcpPath,
    headers,
    body: json(jsonRpc(rng, method, params)),
  };
}

function mcpLegacy(rng: Rng, c: Credentials): FuzzRequest {
  const batch = rng.chance(0.1);
  const one = () => {
    const method = rng.pick(MCP_METHODS);
    return jsonRpc(rng, method, mcpParams(rng, method, false));
  };
  const headers: Record<string, string> = {
    'content-type': rng.pick(JSON_TYPES),
    accept: rng.pick(['application/json, text/event-stream', 'application/json', 'text/event-stream']),
    ...bearer(rng, c),
  };
  if (rng.chance(0.85))
    headers['mcp-protocol-version'] = rng.chance(0.9) ? rng.pick(LEGACY) : wireSafe(oddString(rng));
  if (rng.chance(0.1)) headers['mcp-session-id'] = wireSafe(oddString(rng)) || 'x';
  // The live session, presented with whatever token bearer() chose (its owner's, another's, none).
  else if (rng.chance(0.5)) headers['mcp-session-id'] = c.demoSession;
  const body = rng.chance(0.1) ? answer(rng) : batch ? Array.from({ length: rng.int(0, 5) }, one) : one();
  return { surface: 'mcp-2025', method: 'POST', path: c.mcpPath, headers, body: json(body) };
}

/**
 * A client's answer to a server request, as a session POST carries it: ids in the cross-instance
 * shape `<instance>:<n>` (an instance that exists nowhere, or malformed), plain, or odd.
 */
function answer(rng: Rng): Record<string, unknown> {
  const hex = Array.from({ length: 16 }, () => '0123456789abcdef'[rng.int(0, 15)]).join('');
  const id = rng.pick<unknown>([
    `${hex}:${rng.int(0, 1_000_000)}`,
    `${hex}:-1`,
    `${hex.toUpperCase()}:1`,
    `${hex}:${'9'.repeat(20)}`,
    rng.int(0, 100),
    wireSafe(oddString(rng)),
    null,
  ]);
  return rng.chance(0.5)
    ? { jsonrpc: '2.0', id, result: { action: rng.pick(['accept', 'decline', 'cancel']) } }
    : { jsonrpc: '2.0', id, error: { code: rng.int(-40_000, 0), message: wireSafe(oddString(rng)) } };
}

function mcpOtherMethods(rng: Rng, c: Credentials): FuzzRequest {
  const method = rng.pick([
    'GET',
    'DELETE',
    'OPTIONS',
    'HEAD',
    'TRACE',
    'PUT',
    'PATCH',
    'PROPFIND',
    'FOO',
    'M-SEARCH',
  ]);
  const headers: Record<string, string> = {
    accept: rng.pick(['text/event-stream', 'application/json', '*/*']),
    'mcp-protocol-version': rng.pick([MODERN, ...LEGACY]),
    ...bearer(rng, c),
  };
  if (rng.chance(0.3)) headers.origin = rng.pick(['http://evil.example', 'null', `http://${c.host}`]);
  if (method === 'OPTIONS') headers['access-control-request-method'] = rng.pick(['POST', 'TRACE', 'X']);
  // A session stream: the live session (GET only: a DELETE would end it for the rest of the run) or odd ids.
  if (rng.chance(0.5)) {
    headers['mcp-session-id'] =
      method === 'GET' && rng.chance(0.6) ? c.demoSession : wireSafe(oddString(rng)) || 'x';
    if (rng.chance(0.4))
      headers['last-event-id'] = rng.chance(0.5)
        ? `${rng.int(0, 99)}__GET_stream`
        : wireSafe(oddString(rng)) || '0';
  }
  const req: FuzzRequest = { surface: 'mcp-methods', method, path: c.mcpPath, headers };
  if (rng.chance(0.3)) {
    req.headers['content-type'] = rng.pick([...JSON_TYPES, ...ODD_TYPES]);
    req.body = rng.chance(0.1)
      ? Buffer.alloc(rng.int(100_000, 1_500_000), 120)
      : json(jsonRpc(rng, 'tools/list', {}));
  }
  return req;
}

/** Bodies built to hurt a JSON consumer: deep, wide, huge, odd numbers, prototype keys. */
function mcpHostileJson(rng: Rng, c: Credentials): FuzzRequest {
  const deep = () => deepJson(rng, rng.pick([63, 64, 65, 100, 1000, 5000, 20_000]));
  const argsWith = (inner: string) =>
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hello_world","arguments":{"name":"x","extra":${inner}},"_meta":{"io.modelcontextprotocol/protocolVersion":"${MODERN}","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"f","version":"0"}}}}`;
  const text = rng.weighted<() => string>([
    [3, () => argsWith(deep())],
    [2, deep],
    [0.5, () => argsWith(`[${'0,'.repeat(rng.int(1000, 100_000))}0]`)],
    [0.5, () => argsWith(`"${'x'.repeat(rng.int(10_000, 900_000))}"`)],
    [
      1,
      () => argsWith(`{${Array.from({ length: rng.int(100, 20_000) }, (_, i) => `"k${i}":${i}`).join(',')}}`),
    ],
    [1, () => argsWith(rng.pick(ODD_NUMBERS))],
    [1, () => argsWith('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}')],
    [1, () => `{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list","method":"tools/call","params":{}}`],
    [
      1,
      () =>
        `[${Array.from({ length: rng.int(50, 2000) }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"ping"}`).join(',')}]`,
    ],
    [1, () => '"just a string"'],
    [1, () => rng.pick(['null', '1', 'true', '[]', '{}', '', ' ', '\uFEFF{}', '{"a":"\\ud800"}'])],
  ])();
  const modern = rng.chance(0.7);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': modern ? MODERN : rng.pick(LEGACY),
    ...bearer(rng, c),
  };
  if (modern) {
    headers['mcp-method'] = 'tools/call';
    headers['mcp-name'] = 'hello_world';
  }
  return { surface: 'mcp-json', method: 'POST', path: c.mcpPath, headers, body: Buffer.from(text) };
}

function form(params: Record<string, string>): Buffer {
  return Buffer.from(new URLSearchParams(params).toString());
}

function oddValue(rng: Rng, real: string): string {
  return rng.chance(0.5) ? real : rng.chance(0.5) ? mutateText(rng, real) : oddString(rng);
}

function oauthAuthorize(rng: Rng, c: Credentials): FuzzRequest {
  const params: Record<string, string> = {
    response_type: rng.chance(0.8)
      ? 'code'
      : rng.pick(['token', 'id_token', 'code id_token', 'none', oddString(rng)]),
    client_id: oddValue(rng, c.clientId),
    redirect_uri: oddValue(rng, 'http://127.0.0.1:53682/callback'),
    code_challenge: oddValue(rng, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'),
    code_challenge_method: rng.pick(['S256', 'plain', '', oddString(rng)]),
    scope: rng.pick(['openid', 'mcp:tools', 'openid offline_access', 'admin', oddString(rng)]),
    state: oddString(rng),
    resource: rng.pick([`http://${c.host}/mcp`, 'https://evil.example/mcp', oddString(rng)]),
  };
  for (const key of Object.keys(params)) if (rng.chance(0.1)) delete params[key];
  if (rng.chance(0.2))
    params[
      rng.pick(['prompt', 'request', 'request_uri', 'max_age', 'ui_locales', 'login_hint', 'claims', 'nonce'])
    ] = oddString(rng);
  const post = rng.chance(0.2);
  const query = new URLSearchParams(params).toString();
  return post
    ? {
        surface: 'oauth-auth',
        method: 'POST',
        path: OAUTH_ROUTES.authorization,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(query),
      }
    : { surface: 'oauth-auth', method: 'GET', path: `${OAUTH_ROUTES.authorization}?${query}`, headers: {} };
}

function oauthToken(rng: Rng, c: Credentials): FuzzRequest {
  const grant = rng.pick([
    'authorization_code',
    'refresh_token',
    'refresh_token',
    'client_credentials',
    'password',
    'urn:ietf:params:oauth:grant-type:device_code',
    JWT_BEARER,
    JWT_BEARER,
    oddString(rng),
  ]);
  if (grant === JWT_BEARER) return jwtBearer(rng, c);
  const params: Record<string, string> = { grant_type: grant, client_id: oddValue(rng, c.clientId) };
  if (grant === 'refresh_token')
    params.refresh_token = rng.chance(0.3) ? c.refreshToken : oddValue(rng, c.refreshToken);
  else params.code = oddString(rng);
  if (rng.chance(0.5)) params.code_verifier = oddString(rng);
  if (rng.chance(0.5)) params.redirect_uri = oddString(rng);
  if (rng.chance(0.4))
    params.resource = rng.pick([`http://${c.host}/mcp`, 'https://evil.example/', oddString(rng)]);
  if (rng.chance(0.3)) params.scope = rng.pick(['openid', 'admin', oddString(rng)]);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (rng.chance(0.15))
    headers.authorization = rng.pick([
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from(`${c.clientId}:x`).toString('base64')}`,
      `Bearer ${c.demoToken}`,
    ]);
  if (rng.chance(0.1)) headers.dpop = oddString(rng).slice(0, 200) || 'x';
  const json = rng.chance(0.1);
  return {
    surface: 'oauth-token',
    method: 'POST',
    path: '/oauth/token',
    headers: json ? { ...headers, 'content-type': 'application/json' } : headers,
    body: json ? Buffer.from(JSON.stringify(params)) : form(params),
  };
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The jwt-bearer grant (enterprise ID-JAG): real and near-miss assertions, odd parameters, odd auth. */
function jwtBearer(rng: Rng, c: Credentials): FuzzRequest {
  const e = c.enterprise;
  const params: Record<string, string> = { grant_type: JWT_BEARER };
  if (rng.chance(0.9)) {
    params.assertion = rng.pick([
      ...e.assertions,
      oddString(rng),
      `${oddString(rng)}.${oddString(rng)}.${oddString(rng)}`,
      'e30.e30.',
      'a'.repeat(rng.int(1, 40_000)),
    ]);
  }
  if (rng.chance(0.3)) params.scope = rng.pick(['mcp:tools', 'mcp:admin', 'openid mcp:data', oddString(rng)]);
  if (rng.chance(0.3))
    params.resource = rng.pick([`http://${c.host}/mcp`, 'https://evil.example/mcp', oddString(rng)]);
  if (rng.chance(0.1)) params.client_id = oddValue(rng, e.clientId);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const auth = rng.pick(['right', 'right', 'right', 'wrong', 'none', 'odd']);
  if (auth === 'right') headers.authorization = basic(e.clientId, e.clientSecret);
  else if (auth === 'wrong') headers.authorization = basic(e.clientId, oddString(rng));
  else if (auth === 'odd') headers.authorization = `Basic ${oddString(rng)}`;
  if (rng.chance(0.1)) headers.dpop = oddString(rng).slice(0, 200) || 'x';
  return {
    surface: 'oauth-token',
    method: 'POST',
    path: '/oauth/token',
    headers,
    body: form(params),
  };
}

/** HTTP Basic as written (odd strings may hold lone surrogates: no URI-encoding, raw UTF-8). */
function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function oauthRegister(rng: Rng, c: Credentials): FuzzRequest {
  if (rng.chance(0.15)) {
    return {
      surface: 'oauth-reg',
      method: rng.pick(['GET', 'PUT', 'DELETE']),
      path: `${OAUTH_ROUTES.registration}/${pct(oddValue(rng, c.clientId))}`,
      headers: { authorization: `Bearer ${oddString(rng).replace(/[^\x21-\x7e]/g, '') || 'x'}` },
    };
  }
  const metadata: Record<string, unknown> = {
    client_name: oddString(rng),
    redirect_uris: rng.pick([
      ['http://127.0.0.1:53682/callback'],
      [],
      [oddString(rng)],
      'http://x',
      ['javascript:alert(1)'],
      ['https://a.example/cb#frag'],
      null,
    ]),
    token_endpoint_auth_method: rng.pick(['none', 'client_secret_basic', 'private_key_jwt', oddString(rng)]),
    grant_types: rng.pick([
      ['authorization_code', 'refresh_token'],
      ['implicit'],
      ['client_credentials'],
      [oddString(rng)],
    ]),
    response_types: rng.pick([['code'], ['token'], [], 'code']),
  };
  for (const key of Object.keys(metadata)) if (rng.chance(0.1)) delete metadata[key];
  if (rng.chance(0.3))
    metadata[
      rng.pick([
        'jwks',
        'jwks_uri',
        'logo_uri',
        'client_uri',
        'scope',
        'software_statement',
        'contacts',
        'policy_uri',
        '__proto__',
      ])
    ] = randomJson(rng, 3);
  const body = rng.chance(0.1) ? Buffer.from(deepJson(rng, rng.pick([64, 500, 5000]))) : json(metadata);
  return {
    surface: 'oauth-reg',
    method: 'POST',
    path: OAUTH_ROUTES.registration,
    headers: { 'content-type': 'application/json' },
    body,
  };
}

function oauthOther(rng: Rng, c: Credentials): FuzzRequest {
  const path = rng.pick([
    '/oauth/token/revocation',
    '/oauth/token/introspection',
    '/oauth/jwks',
    OAUTH_ROUTES.userinfo,
    // Former paths (308 to today's), so the redirects are fuzzed too.
    ...Object.keys(FORMER_ROUTES),
    '/oauth/session/end',
    '/oauth/session/end/confirm',
    '/oauth/par',
    '/oauth/device',
    '/oauth/device/auth',
    '/oauth/backchannel',
    '/oauth/challenge',
    '/oauth/credential',
    '/oauth/',
    '/oauth/nothing',
  ]);
  const method = rng.pick(['GET', 'POST', 'POST', 'OPTIONS', 'DELETE']);
  const headers: Record<string, string> = { ...bearer(rng, c) };
  if (method !== 'POST') return { surface: 'oauth-other', method, path, headers };
  const params: Record<string, string> = {
    token: rng.pick([c.demoToken, c.refreshToken, oddString(rng)]),
    client_id: oddValue(rng, c.clientId),
  };
  if (rng.chance(0.4)) params.token_type_hint = rng.pick(['access_token', 'refresh_token', oddString(rng)]);
  return {
    surface: 'oauth-other',
    method,
    path,
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: form(params),
  };
}

function discovery(rng: Rng, _c: Credentials): FuzzRequest {
  const path = rng.pick([
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
    '/.well-known/oauth-protected-resource',
    '/.well-known/oauth-protected-resource/mcp',
    '/.well-known/oauth-authorization-server/oauth',
    '/.well-known/openid-configuration/mcp',
    '/.well-known/',
    '/.well-known/security.txt',
    '/mcp/.well-known/oauth-protected-resource',
  ]);
  const headers: Record<string, string> = {};
  if (rng.chance(0.3)) headers.origin = rng.pick(['http://evil.example', 'null']);
  if (rng.chance(0.2)) headers['if-none-match'] = oddString(rng).replace(/[^\x20-\x7e]/g, '') || '*';
  return {
    surface: 'discovery',
    method: rng.pick(['GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'POST']),
    path,
    headers,
  };
}

function pages(rng: Rng, c: Credentials): FuzzRequest {
  const i = c.interaction;
  const uid = rng.chance(0.7) ? i.uid : oddString(rng).replace(/[/?#]/g, '') || 'x';
  const cookie = rng.chance(0.7) ? i.cookie : oddString(rng).replace(/[^\x20-\x7e]/g, '');
  const fields = (): Record<string, string> => {
    const f: Record<string, string> = {
      csrf: rng.chance(0.7) ? i.csrf : oddString(rng),
      username: rng.chance(0.3) ? 'demo' : oddString(rng),
      password: rng.chance(0.1) ? 'demo123' : oddString(rng),
    };
    if (rng.chance(0.3))
      f[rng.pick(['remember', 'scope', 'client_id', 'decision', '__proto__'])] = oddString(rng);
    return f;
  };
  const formBody = () =>
    rng.weighted<() => Buffer>([
      [6, () => form(fields())],
      [1, () => Buffer.from(Array.from({ length: rng.int(21, 3000) }, (_, n) => `f${n}=${n}`).join('&'))],
      [0.3, () => Buffer.from(`username=${'x'.repeat(rng.int(8_000, 300_000))}`)],
      [1, () => Buffer.from(mutateQuery(rng, 'username=demo&password=x'))],
    ])();
  const which = rng.pick(['interaction', 'interaction-post', 'account', 'account-post']);
  const base = { 'content-type': 'application/x-www-form-urlencoded', cookie };
  if (which === 'interaction')
    return {
      surface: 'pages',
      method: 'GET',
      path: `/interaction/${pct(uid)}`,
      headers: { cookie, accept: 'text/html' },
    };
  if (which === 'interaction-post') {
    const action = rng.pick(['login', 'consent', 'abort', 'nothing']);
    return {
      surface: 'pages',
      method: 'POST',
      path: `/interaction/${pct(uid)}/${action}`,
      headers: base,
      body: formBody(),
    };
  }
  const accountCookie = rng.chance(0.7) ? c.account.cookie : cookie;
  if (which === 'account') {
    const query = rng.chance(0.3) ? `?revoked=${pct(oddString(rng))}` : '';
    return {
      surface: 'pages',
      method: 'GET',
      path: `/account${query}`,
      headers: { cookie: accountCookie, accept: 'text/html' },
    };
  }
  const action = rng.pick(['login', 'revoke', 'logout', 'nothing']);
  const f = fields();
  f.csrf = rng.chance(0.7) ? c.account.csrf : f.csrf!;
  if (action === 'revoke') f.client_id = oddValue(rng, c.clientId);
  return {
    surface: 'pages',
    method: 'POST',
    path: `/account/${action}`,
    headers: { ...base, cookie: accountCookie },
    body: rng.chance(0.8) ? form(f) : formBody(),
  };
}

/**
 * The admin console (/admin): its pages with hostile filters and notices, and its actions with the
 * admin's real cookie and CSRF token (mostly) and odd values — never the admin's own account, so the
 * run keeps a signed-in admin to fuzz with.
 */
function adminConsole(rng: Rng, c: Credentials): FuzzRequest {
  const cookie = rng.chance(0.8)
    ? c.admin.cookie
    : rng.chance(0.5)
      ? c.account.cookie
      : oddString(rng).replace(/[^\x20-\x7e]/g, '');
  const section = rng.pick([
    '',
    '/users',
    '/clients',
    '/grants',
    '/keys',
    '/audit',
    `/${pct(oddString(rng))}`,
  ]);
  if (rng.chance(0.45)) {
    const query = rng.pick([
      '',
      `?user=${pct(oddString(rng))}&client=${pct(oddValue(rng, c.clientId))}`,
      `?type=${pct(rng.pick(['signin', 'grant.revoked', oddString(rng)]))}&since=${pct(rng.pick(['24h', '2026-01-01', '99999999d', oddString(rng)]))}`,
      `?done=${pct(rng.pick(['user_added', oddString(rng)]))}`,
      `?${mutateQuery(rng, 'user=demo&type=signin')}`,
    ]);
    return {
      surface: 'admin',
      method: 'GET',
      path: `/admin${section}${query}`,
      headers: { cookie, accept: 'text/html' },
    };
  }
  const action = rng.weighted<string>([
    [3, 'users/add'],
    [2, 'users/role'],
    [2, 'users/disable'],
    [2, 'users/password'],
    [2, 'clients/remove'],
    [2, 'grants/revoke'],
    [0.3, 'keys/rotate'],
    [1, pct(oddString(rng))],
  ]);
  const username = rng.pick(['demo', oddString(rng), `fuzz-${rng.int(0, 50)}`]);
  const f: Record<string, string> = {
    csrf: rng.chance(0.8) ? c.admin.csrf : oddString(rng),
    username,
    password: rng.pick(['long-enough-password-1', oddString(rng)]),
    role: rng.pick(['user', 'admin', oddString(rng)]),
    disabled: rng.pick(['0', '1', oddString(rng)]),
    client_id: oddValue(rng, c.clientId),
    grant_id: oddString(rng),
  };
  if (rng.chance(0.3)) f[rng.pick(['name', 'email', '__proto__', 'constructor'])] = oddString(rng);
  const body = rng.weighted<() => Buffer>([
    [6, () => form(f)],
    [1, () => Buffer.from(Array.from({ length: rng.int(21, 3000) }, (_, n) => `f${n}=${n}`).join('&'))],
    [0.3, () => Buffer.from(`username=${'x'.repeat(rng.int(8_000, 300_000))}`)],
    [1, () => Buffer.from(mutateQuery(rng, `csrf=${c.admin.csrf}&username=demo&role=user`))],
  ])();
  return {
    surface: 'admin',
    method: 'POST',
    path: `/admin/${action}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body,
  };
}

/** "Sign in with …" on a live interaction, and the provider's redirect back to UPSTREAM_CALLBACK_PATH. */
function upstreamSignIn(rng: Rng, c: Credentials): FuzzRequest {
  const i = c.interaction;
  if (rng.chance(0.4)) {
    const uid = rng.chance(0.8) ? i.uid : oddString(rng).replace(/[/?#]/g, '') || 'x';
    const provider = rng.chance(0.7) ? c.upstream.id : oddString(rng).replace(/[/?#]/g, '') || 'x';
    const csrf = rng.chance(0.7) ? i.csrf : oddString(rng);
    return {
      surface: 'upstream',
      method: 'POST',
      path: `/interaction/${pct(uid)}/upstream/${pct(provider)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: i.cookie, accept: 'text/html' },
      body: form({ csrf }),
    };
  }
  const params = new URLSearchParams();
  if (rng.chance(0.8)) params.set('state', rng.chance(0.5) ? 'x'.repeat(43) : oddString(rng));
  if (rng.chance(0.7)) params.set('code', oddString(rng));
  if (rng.chance(0.6)) params.set('iss', rng.chance(0.5) ? c.upstream.issuer : oddString(rng));
  if (rng.chance(0.2)) params.set('error', rng.pick(['access_denied', 'server_error', oddString(rng)]));
  if (rng.chance(0.1)) params.append('state', 'second');
  const query = rng.chance(0.3) ? mutateQuery(rng, params.toString()) : params.toString();
  return {
    surface: 'upstream',
    method: rng.pick(['GET', 'GET', 'GET', 'POST', 'HEAD']),
    path: `/upstream/callback?${query}`,
    headers: {
      accept: 'text/html',
      cookie: rng.chance(0.5) ? `sekisho_upstream=${pct(oddString(rng))}` : i.cookie,
    },
  };
}

function misc(rng: Rng, c: Credentials): FuzzRequest {
  const path = rng.pick([
    '/healthz',
    '/readyz',
    '/metrics',
    '/static/sekisho.css',
    '/',
    '/favicon.ico',
    '/robots.txt',
    '/index.html',
    '/mcp/',
    '/MCP',
    '/admin',
    '/.env',
    '/%2e%2e/%2e%2e/etc/passwd',
  ]);
  const headers: Record<string, string> = rng.chance(0.3)
    ? { authorization: `Bearer ${oddString(rng).replace(/[^\x21-\x7e]/g, '') || 'x'}` }
    : {};
  if (rng.chance(0.2))
    headers['if-none-match'] = rng.pick(['*', '"x"', oddString(rng).replace(/[^\x20-\x7e]/g, '')]);
  void c;
  return {
    surface: 'misc',
    method: rng.pick(['GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'DELETE']),
    path,
    headers,
  };
}

/** Malformed HTTP that no well-behaved client library would send. */
function rawHttp(rng: Rng, c: Credentials): FuzzRequest {
  const path = rng.pick([c.mcpPath, '/oauth/token', '/account/login', '/healthz', '/interaction/x']);
  const text = rng.weighted<() => string>([
    [
      1,
      () => `GET ${path} HTTP/1.1\r\nHost: ${c.host}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    ],
    [
      1,
      () =>
        `POST ${path} HTTP/1.1\r\nHost: ${c.host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    [
      1,
      () =>
        `POST ${path} HTTP/1.1\r\nHost: ${c.host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
    ],
    [1, () => `GET ${path} HTTP/1.1\r\nHost: ${c.host}\r\nBad Header: x\r\n\r\n`],
    [1, () => `GET ${path} HTTP/1.1\r\nHost: ${c.host}\r\nX: a\r\n folded\r\n\r\n`],
    [1, () => `GET /a b HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => `GET ${path} HTTP/1.0\r\n\r\n`],
    [1, () => `GET ${path} HTTP/2.0\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => `GET ${path}\r\n\r\n`],
    [1, () => `GET http://evil.example${path} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => `GET ${path} HTTP/1.1\r\n\r\n`],
    [1, () => `GET ${path} HTTP/1.1\r\nHost: ${c.host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    [1, () => `G\u0000T ${path} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => `${'A'.repeat(rng.int(1, 40))} ${path} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => `POST ${path} HTTP/1.1\r\nHost: ${c.host}\r\nContent-Length: -1\r\n\r\n`],
    [1, () => `POST ${path} HTTP/1.1\r\nHost: ${c.host}\r\nContent-Length: 99999999999999999999\r\n\r\n`],
    [1, () => `GET ${path} HTTP/1.1\nHost: ${c.host}\n\n`],
    [1, () => `GET ${path}?${'%ZZ'.repeat(rng.int(1, 100))} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => `GET /${'é'.repeat(5)} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => `\r\n\r\nGET ${path} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`],
    [1, () => randomBytesText(rng)],
  ])();
  return { surface: 'raw-http', method: 'RAW', path, headers: {}, raw: Buffer.from(text, 'latin1') };
}

function randomBytesText(rng: Rng): string {
  let s = '';
  for (let n = rng.int(1, 200); n > 0; n--) s += String.fromCharCode(rng.int(0, 255));
  return s;
}

export const SURFACES: readonly (readonly [number, (rng: Rng, c: Credentials) => FuzzRequest])[] = [
  [14, mcpModern],
  [10, mcpLegacy],
  [5, mcpOtherMethods],
  [5, mcpHostileJson],
  [6, oauthAuthorize],
  [7, oauthToken],
  [4, oauthRegister],
  [5, oauthOther],
  [5, discovery],
  [10, pages],
  [4, adminConsole],
  [3, upstreamSignIn],
  [4, misc],
  [2, rawHttp],
];

/** Breaks a request in zero or more further ways, independently of its surface. */
export function mutate(rng: Rng, req: FuzzRequest, c: Credentials): FuzzRequest {
  if (req.raw) return req;
  if (rng.chance(0.07))
    req.method = rng.pick([
      'GET',
      'POST',
      'PUT',
      'DELETE',
      'PATCH',
      'HEAD',
      'OPTIONS',
      'TRACE',
      'FOO',
      'get',
    ]);
  if (rng.chance(0.1)) req.path = mutatePath(rng, req.path);
  if (req.body && rng.chance(0.1)) req.body = Buffer.from(mutateText(rng, req.body.toString('utf8')));
  if (rng.chance(0.06)) req.headers['content-type'] = rng.pick([...ODD_TYPES, ...JSON_TYPES]);
  if (rng.chance(0.03)) delete req.headers['content-type'];
  if (rng.chance(0.05)) {
    for (let n = rng.int(1, 30); n > 0; n--) {
      const name = `x-${
        wireSafe(oddString(rng))
          .replace(/[^a-z0-9-]/gi, '')
          .slice(0, 30) || 'f'
      }`;
      req.headers[name] = wireSafe(oddString(rng)).slice(0, 2000);
    }
  }
  if (rng.chance(0.03)) req.headers.connection = 'close';
  if (rng.chance(0.02))
    req.headers.host = rng.pick([
      'evil.example',
      `${c.host}.evil.example`,
      'localhost',
      '127.0.0.1',
      '[::1]',
      '',
      c.host.toUpperCase(),
    ]);
  if (rng.chance(0.03))
    req.headers.origin = rng.pick([
      'http://evil.example',
      'null',
      `http://${c.host}`,
      wireSafe(oddString(rng)),
    ]);
  if (rng.chance(0.02)) req.headers.cookie = wireSafe(oddString(rng));
  if (rng.chance(0.02))
    req.headers['accept-language'] = rng.pick(['ja', 'en', '*', 'xx-YY;q=2', wireSafe(oddString(rng))]);
  if (rng.chance(0.02))
    req.headers.accept = rng.pick(['text/html', 'application/xml', '', '*/*;q=0', wireSafe(oddString(rng))]);
  if (req.body && rng.chance(0.03)) {
    const coding = rng.pick(['gzip', 'gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip']);
    req.headers['content-encoding'] = coding;
    if (coding === 'gzip' && rng.chance(0.6)) req.body = gzipSync(req.body);
  }
  if (req.body && rng.chance(0.03)) req.chunked = true;
  if (rng.chance(0.001)) req.body = Buffer.alloc(rng.pick([1_100_000, 3_000_000]), rng.pick([0x41, 0x7b]));
  if (rng.chance(0.01)) req.headers.expect = rng.pick(['100-continue', 'nonsense']);
  return req;
}

export function nextRequest(rng: Rng, c: Credentials): FuzzRequest {
  return mutate(rng, rng.weighted(SURFACES)(rng, c), c);
}
