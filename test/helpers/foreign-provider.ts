/**
 * A second, independent OpenID provider for tests: oidc-provider on its own loopback port with its
 * own issuer, its own users (with `groups` and e-mail claims) and its own keys (RS256, as most
 * hosted IdPs sign). Sekisho never shares anything with it but HTTP, so it stands in for Google,
 * Entra ID, Okta, Keycloak… in the federated sign-in tests, and for an external authorization
 * server in the resource-server-only tests.
 *
 *   const idp = await startForeignProvider({ users: [{ username: 'alice', password: 'pw', groups: ['ops'] }] });
 *   after(() => idp.close());
 *   idp.addClient({ client_id: 'sekisho', client_secret: 's', redirect_uris: [`${base}/federation/callback`] });
 *
 * What it speaks:
 *  - authorization code flow, PKCE S256 required for every client, `iss` on every authorization
 *    response (RFC 9207), refresh tokens when the client asks for `offline_access`;
 *  - clients registered up front (`clients`, `addClient`) and dynamic registration (RFC 7591, open);
 *  - RFC 8707 resource indicators: a request naming `resource` gets an RFC 9068 JWT access token
 *    whose `aud` is that resource (scopes granted: `resourceScopes`), carrying `groups` and `email`;
 *    without `resource` the access token is opaque (for userinfo);
 *  - introspection (RFC 7662) and revocation (RFC 7009): a client registered with
 *    `introspector: true` metadata may introspect and revoke anyone's tokens; `revoke(token)` does it;
 *  - the sign-in interaction: GET `/interaction/:uid` shows a plain HTML form (`form#foreign-login`,
 *    inputs `username` and `password`, action ending in `/login`), POST signs in. Consent is implied
 *    (a first-party IdP), so after the form the browser goes straight back to the client. It can be
 *    driven by Chromium or by `browserlessLogin` from browserless-login.ts (same field names);
 *  - a tampering hook (`tamperIdToken`) to re-sign the ID token with altered claims (wrong `aud`,
 *    `nonce`, `iss`, an `exp` in the past…) so relying-party checks can be proven to refuse them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type Configuration, errors } from 'oidc-provider';

export interface ForeignUser {
  readonly username: string;
  readonly password: string;
  /** The stable subject; default `fp-<username>` (never the e-mail: RPs must not key on it). */
  readonly sub?: string;
  readonly name?: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly groups?: readonly string[];
  /** Any further claims to release (e.g. `roles` as Entra ID sends them). */
  readonly extraClaims?: Readonly<Record<string, unknown>>;
}

/** RFC 7591 client metadata plus `introspector` (may introspect and revoke every token). */
export type ForeignClient = Record<string, unknown> & {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly redirect_uris?: readonly string[];
  readonly introspector?: boolean;
};

export interface ForeignProviderOptions {
  /** Path after the origin, e.g. `/realms/acme` (Keycloak style); default none. */
  readonly issuerPath?: string;
  readonly users?: readonly ForeignUser[];
  readonly clients?: readonly ForeignClient[];
  /**
   * Scopes granted in a JWT access token for a resource indicator (RFC 8707), by resource; a
   * function sees every requested resource. Default: any http(s) resource gets `mcp:tools mcp:data`.
   * Return undefined to refuse the resource (invalid_target).
   */
  readonly resourceScopes?: (resource: string) => string | undefined;
  /**
   * `jwt` (default) or `opaque` access tokens for resource indicators. oidc-provider cannot
   * introspect or revoke its JWT access tokens, so tests of introspection use `opaque`.
   */
  readonly resourceTokenFormat?: 'jwt' | 'opaque';
  /**
   * Further scope values the provider knows, so clients may register and request them (an MCP
   * client registers with the scopes it read from the resource's PRM; a real IdP has them defined:
   * Keycloak client scopes, Entra ID exposed API scopes). Default none.
   */
  readonly extraScopes?: readonly string[];
  /** Access token lifetime in seconds (default 300). */
  readonly accessTokenTtlSeconds?: number;
  /** Put the scope-requested claims (email, groups…) into the ID token too (default true). */
  readonly claimsInIdToken?: boolean;
}

export interface ForeignProvider {
  /** The issuer identifier, e.g. `http://127.0.0.1:41234` or `http://127.0.0.1:41234/realms/acme`. */
  readonly issuer: string;
  /** The origin it listens on. */
  readonly origin: string;
  /** `${issuer}/.well-known/openid-configuration`. */
  readonly discoveryUrl: string;
  readonly provider: Provider;
  /** The public signing key set (what `jwks_uri` serves). */
  readonly publicJwks: { keys: JWK[] };
  /** Adds or replaces a user (by username); later sign-ins and refreshes see the new claims. */
  upsertUser(user: ForeignUser): void;
  /** Replaces a user's groups (e.g. to take a group away and watch access go). */
  setGroups(username: string, groups: readonly string[]): void;
  /** The subject a user gets in tokens. */
  subjectOf(username: string): string;
  /** Registers (or replaces) a client. */
  addClient(client: ForeignClient): void;
  /** A confidential client allowed to introspect/revoke every token, made at start. */
  readonly adminClient: { readonly clientId: string; readonly clientSecret: string };
  /** Switches the format of access tokens issued from now on for resource indicators. */
  setResourceTokenFormat(format: 'jwt' | 'opaque'): void;
  /** Revokes an opaque access token or a refresh token (RFC 7009 through the admin client). */
  revoke(token: string, hint?: 'access_token' | 'refresh_token'): Promise<void>;
  /** RFC 7662 introspection of an opaque token through the admin client. */
  introspect(token: string): Promise<Record<string, unknown>>;
  /**
   * While set, each ID token returned by the token endpoint is re-signed with the provider's own key
   * after `tamper` changed its claims. `undefined` turns tampering off. `signWith`: `own` (default,
   * a valid signature), `stranger` (another key under the provider's own `kid`: a forged token),
   * or `none` (an unsigned `alg: none` token).
   */
  tamperIdToken(
    tamper: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined,
    signWith?: 'own' | 'stranger' | 'none',
  ): void;
  /** How many sign-ins (form posts that succeeded) it saw. */
  readonly signIns: number;
  close(): Promise<void>;
}

const DEFAULT_RESOURCE_SCOPES = 'mcp:tools mcp:data';

/** A Map-backed oidc-provider adapter per instance (the bundled memory adapter is process-global). */
function createMemoryAdapter() {
  const rows = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const key = (model: string, id: string) => `${model}:${id}`;
  const live = (k: string) => {
    const row = rows.get(k);
    if (!row) return undefined;
    if (row.expiresAt <= Date.now()) {
      rows.delete(k);
      return undefined;
    }
    return row.payload;
  };
  const factory = class implements Adapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      rows.set(key(this.#model, id), { payload: { ...payload }, expiresAt });
    }
    async find(id: string) {
      return live(key(this.#model, id));
    }
    async findByUserCode(userCode: string) {
      for (const [k, row] of rows) {
        if (k.startsWith(`${this.#model}:`) && row.payload.userCode === userCode) return live(k);
      }
      return undefined;
    }
    async findByUid(uid: string) {
      for (const [k, row] of rows) {
        if (k.startsWith(`${this.#model}:`) && row.payload.uid === uid) return live(k);
      }
      return undefined;
    }
    async consume(id: string) {
      const payload = live(key(this.#model, id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      rows.delete(key(this.#model, id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [k, row] of rows) if (row.payload.grantId === grantId) rows.delete(k);
    }
  };
  const upsertClient = (client: ForeignClient) => {
    const { introspector, ...metadata } = client;
    rows.set(key('Client', client.client_id), {
      payload: { ...metadata, ...(introspector ? { introspector: true } : {}) } as AdapterPayload,
      expiresAt: Number.POSITIVE_INFINITY,
    });
  };
  return { factory, upsertClient };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function loginPage(uid: string, problem?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Foreign IdP sign-in</title></head>
<body><h1>Foreign IdP</h1>${problem ? `<p class="error">${escapeHtml(problem)}</p>` : ''}
<form id="foreign-login" method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>User <input id="foreign-username" name="username" autocomplete="username"></label>
<label>Password <input id="foreign-password" name="password" type="password"></label>
<button type="submit" form="foreign-login">Sign in</button></form></body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startForeignProvider(opts: ForeignProviderOptions = {}): Promise<ForeignProvider> {
  const users = new Map<string, ForeignUser>();
  const subjectOf = (u: ForeignUser) => u.sub ?? `fp-${u.username}`;
  for (const u of opts.users ?? []) users.set(u.username, u);
  const userBySub = (sub: string) => [...users.values()].find((u) => subjectOf(u) === sub);

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = {
    ...(await exportJWK(privateKey)),
    kid: `fp-${randomUUID()}`,
    alg: 'RS256',
    use: 'sig',
  };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const issuerPath = (opts.issuerPath ?? '').replace(/\/+$/, '');
  const issuer = `${origin}${issuerPath}`;

  const adapter = createMemoryAdapter();
  const adminClient = { clientId: `fp-admin-${randomUUID()}`, clientSecret: randomBytes(24).toString('hex') };
  adapter.upsertClient({
    client_id: adminClient.clientId,
    client_secret: adminClient.clientSecret,
    redirect_uris: [],
    response_types: [],
    grant_types: [],
    introspector: true,
  });
  for (const c of opts.clients ?? []) adapter.upsertClient(c);

  const resourceScopes = opts.resourceScopes ?? (() => DEFAULT_RESOURCE_SCOPES);
  let resourceTokenFormat = opts.resourceTokenFormat ?? 'jwt';
  const isIntrospector = (client: { metadata(): Record<string, unknown> }) =>
    client.metadata().introspector === true;

  const configuration: Configuration = {
    adapter: adapter.factory,
    jwks: { keys: [privateJwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'roles', ...(opts.extraScopes ?? [])],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
      roles: ['roles'],
    },
    extraClientMetadata: { properties: ['introspector'], validator() {} },
    conformIdTokenClaims: opts.claimsInIdToken === false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: opts.accessTokenTtlSeconds ?? 300,
      AuthorizationCode: 60,
      IdToken: 300,
      Interaction: 600,
      Session: 3600,
      Grant: 86_400,
      RefreshToken: 86_400,
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) =>
          isIntrospector(client) || token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) =>
          isIntrospector(client) || token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          const scope = /^https?:\/\//.test(resource) ? resourceScopes(resource) : undefined;
          if (scope === undefined) throw new errors.InvalidTarget('unknown resource at the foreign provider');
          return {
            scope,
            audience: resource,
            accessTokenTTL: opts.accessTokenTtlSeconds ?? 300,
            accessTokenFormat: resourceTokenFormat,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    } as Configuration['features'],
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind !== 'AccessToken' || !('accountId' in token) || !token.accountId) return undefined;
      const user = userBySub(token.accountId);
      if (!user) return undefined;
      return { groups: [...(user.groups ?? [])], ...(user.email ? { email: user.email } : {}) };
    },
    async findAccount(_ctx, sub) {
      const user = userBySub(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          const current = userBySub(sub) ?? user;
          return {
            sub,
            name: current.name ?? current.username,
            preferred_username: current.username,
            ...(current.email ? { email: current.email, email_verified: current.emailVerified ?? true } : {}),
            groups: [...(current.groups ?? [])],
            ...(current.extraClaims ?? {}),
          };
        },
      };
    },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };

  const provider = new Provider(issuer, configuration);

  let tamper: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined;
  let signWith: 'own' | 'stranger' | 'none' = 'own';
  const stranger = (await generateKeyPair('RS256')).privateKey;
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!tamper || ctx.oidc?.route !== 'token' || typeof body?.id_token !== 'string') return;
    const claims = tamper({ ...decodeJwt(body.id_token) });
    if (signWith === 'none') {
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      body.id_token = `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
      return;
    }
    body.id_token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid, typ: 'JWT' })
      .sign(signWith === 'stranger' ? stranger : privateKey);
  });

  let signIns = 0;
  const oidcCallback = provider.callback();
  const interaction = /^\/interaction\/([\w-]+)(\/login)?$/;

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, login: boolean) {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      // A first-party IdP: consent is implied for what the client asked.
      const { accountId } = details.session ?? {};
      const clientId = details.params.client_id as string;
      const grant = details.grantId
        ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId }))
        : new provider.Grant({ accountId, clientId });
      const missing = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
      return;
    }
    if (!login || req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(details.uid));
      return;
    }
    const form = await readForm(req);
    const user = users.get(form.get('username') ?? '');
    if (!user || user.password !== form.get('password')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(details.uid, 'Wrong user name or password.'));
      return;
    }
    signIns++;
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: subjectOf(user) } },
      { mergeWithLastSubmission: false },
    );
  }

  server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    const m = interaction.exec(path);
    if (!m) {
      // oidc-provider serves everything under the issuer path.
      if (issuerPath && path.startsWith(issuerPath)) req.url = req.url!.slice(issuerPath.length) || '/';
      oidcCallback(req, res);
      return;
    }
    handleInteraction(req, res, m[2] === '/login').catch((err: unknown) => {
      if (res.headersSent) return res.end();
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${(err as Error).message}`);
    });
  });

  async function adminPost(path: string, body: Record<string, string>) {
    const basic = Buffer.from(
      `${encodeURIComponent(adminClient.clientId)}:${encodeURIComponent(adminClient.clientSecret)}`,
    ).toString('base64');
    return fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
  }

  return {
    issuer,
    origin,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    provider,
    publicJwks: { keys: [publicJwk as JWK] },
    upsertUser(user) {
      users.set(user.username, user);
    },
    setGroups(username, groups) {
      const user = users.get(username);
      if (!user) throw new Error(`no foreign user ${username}`);
      users.set(username, { ...user, groups });
    },
    subjectOf(username) {
      const user = users.get(username);
      if (!user) throw new Error(`no foreign user ${username}`);
      return subjectOf(user);
    },
    addClient: adapter.upsertClient,
    setResourceTokenFormat(format) {
      resourceTokenFormat = format;
    },
    adminClient,
    async revoke(token, hint) {
      const res = await adminPost('/token/revocation', { token, ...(hint ? { token_type_hint: hint } : {}) });
      if (res.status !== 200)
        throw new Error(`foreign revocation answered ${res.status}: ${await res.text()}`);
    },
    async introspect(token) {
      const res = await adminPost('/token/introspection', { token });
      if (res.status !== 200)
        throw new Error(`foreign introspection answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    },
    tamperIdToken(fn, how = 'own') {
      tamper = fn;
      signWith = how;
    },
    get signIns() {
      return signIns;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
