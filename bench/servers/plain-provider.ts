/**
 * The refresh reference (f-refresh-ref): plain oidc-provider — the engine inside Sekisho's
 * authorization server — with nothing of ours around it, configured as close to
 * src/oauth/provider.ts as its own features allow, so "Sekisho refresh / plain refresh" is the cost
 * of everything Sekisho adds (storage adapter with hashed ids and atomic consumption, account
 * lookup, role clamp, step-up check, use recording, audit and request logging, Express in front).
 *
 * Same as Sekisho: issuer = the listening URL, OAuth routes (OAUTH_ROUTES), code flow only, PKCE
 * required, DCR for public clients, one RFC 8707 resource (`<issuer>/mcp`) with ES256 JWT access
 * tokens carrying `gid`, refresh tokens for clients with the refresh_token grant, rotated on every
 * use, the same TTLs (Sekisho's defaults), DPoP, revocation, introspection, userinfo and client
 * credentials enabled. Different, on purpose: an in-process store instead of SQLite (that is part of
 * what we add), and no client-ID metadata documents (they need Sekisho's fetch policy; they do not
 * touch a refresh of a registered client).
 *
 * The store is an unbounded Map: oidc-provider's default MemoryAdapter is a 1,000-entry LRU, which
 * under load evicts the registered client and grants and turns the reference into a stream of
 * invalid_client errors.
 *
 * With SEKISHO_BENCH_REF_STORE=sqlite (f-refresh-ref-sqlite) the same provider stores through
 * Sekisho's own adapter on Sekisho's SQLite storage (fresh data dir): hashed token ids, atomic
 * consume-once, durable rows. That splits "Sekisho / plain" in two: what a durable store costs
 * (ref-sqlite vs ref) and what everything else Sekisho adds costs (f-refresh vs ref-sqlite).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type Configuration, errors } from 'oidc-provider';
import { mcpResourceUrl } from '../../src/config/config.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createAdapterFactory } from '../../src/oauth/adapter.ts';
import { OAUTH_ROUTES } from '../../src/oauth/routes.ts';
import { openStorage } from '../../src/storage/open.ts';
import { serveCommands } from '../lib/ipc.ts';
import { BENCH_SCOPES } from './bench-caller.ts';
import { oauthCredentials } from './oauth-credentials.ts';

/** Models whose rows belong to a grant (revoked with it, e.g. on refresh-token reuse). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode']);

const rows = new Map<string, AdapterPayload>();
const byGrant = new Map<string, Set<string>>();
const byUid = new Map<string, string>();

/** oidc-provider's adapter contract over one Map for every model, never evicting. */
class UnboundedMemoryAdapter implements Adapter {
  private readonly model: string;
  constructor(model: string) {
    this.model = model;
  }
  private key(id: string): string {
    return `${this.model}:${id}`;
  }
  async upsert(id: string, payload: AdapterPayload): Promise<void> {
    const key = this.key(id);
    rows.set(key, payload);
    if (this.model === 'Session' && payload.uid) byUid.set(payload.uid, id);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const members = byGrant.get(payload.grantId) ?? new Set<string>();
      members.add(key);
      byGrant.set(payload.grantId, members);
    }
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    return rows.get(this.key(id));
  }
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = byUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }
  async findByUserCode(): Promise<undefined> {
    return undefined; // no device flow in this reference
  }
  async consume(id: string): Promise<void> {
    const row = rows.get(this.key(id));
    if (row) row.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string): Promise<void> {
    rows.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of byGrant.get(grantId) ?? []) rows.delete(key);
    byGrant.delete(grantId);
  }
}

const server = createServer({ keepAliveTimeout: 5_000 });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const issuer = `http://127.0.0.1:${port}`;
// Sekisho's defaults for every lifetime, from the same parser `npm start` uses.
const defaults = loadConfig({ HOST: '127.0.0.1', PORT: String(port), SEKISHO_BASE_URL: issuer });
const resource = mcpResourceUrl({ baseUrl: issuer });

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = await exportJWK(privateKey);
const signingKey = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256', use: 'sig' };

const onSqlite = process.env.SEKISHO_BENCH_REF_STORE === 'sqlite';
const dataDir = onSqlite ? mkdtempSync(join(tmpdir(), 'sekisho-bench-ref-')) : undefined;
const storage = dataDir ? await openStorage(loadConfig({ SEKISHO_DATA_DIR: dataDir })) : undefined;

const configuration: Configuration = {
  adapter: storage
    ? createAdapterFactory({
        storage,
        clientIdleTtlSeconds: defaults.clientIdleTtlSeconds,
        refreshReuseGraceSeconds: defaults.refreshReuseGraceSeconds,
        resource,
      })
    : (name: string) => new UnboundedMemoryAdapter(name),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  routes: { ...OAUTH_ROUTES },
  responseTypes: ['code'],
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  expiresWithSession: async () => false,
  extraTokenClaims: async (_ctx, token) =>
    token.kind === 'AccessToken' && 'grantId' in token && token.grantId ? { gid: token.grantId } : undefined,
  ttl: {
    AccessToken: defaults.accessTokenTtlSeconds,
    AuthorizationCode: 60,
    IdToken: defaults.accessTokenTtlSeconds,
    Grant: defaults.grantTtlSeconds,
    Session: 12 * 60 * 60,
    Interaction: 30 * 60,
    ClientCredentials: defaults.accessTokenTtlSeconds,
    RefreshToken(ctx) {
      const grantExp = ctx?.oidc?.entities?.Grant?.exp;
      const left = typeof grantExp === 'number' ? grantExp - Math.floor(Date.now() / 1000) : Infinity;
      return Math.max(1, Math.min(defaults.refreshTokenTtlSeconds, left));
    },
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget('unknown resource');
        return {
          scope: BENCH_SCOPES.join(' '),
          audience: resource,
          accessTokenTTL: defaults.accessTokenTtlSeconds,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
};

const provider = new Provider(issuer, configuration);
server.on('request', provider.callback());

const credentials = oauthCredentials({
  provider,
  url: issuer,
  accountId: 'bench-user',
  resource,
  scope: BENCH_SCOPES.join(' '),
});
serveCommands(
  issuer,
  {
    'auth-codes': (args) => credentials.codes((args as { count: number }).count),
    'refresh-tokens': (args) => credentials.refreshTokens((args as { count: number }).count),
    /** How many rows the store holds: the reference must never evict (see above). */
    'store-size': () => rows.size,
  },
  {
    authenticated: true,
    authNote: storage
      ? "plain oidc-provider on Sekisho's SQLite adapter"
      : 'plain oidc-provider, unbounded in-memory store',
  },
  async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await storage?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  },
);
