/**
 * oidc-provider's persistence adapter over the storage seam (`storage/types.ts`).
 *
 * Secrets at rest: for every model whose id is a bearer secret (tokens, codes, the session cookie,
 * the interaction cookie) the id is stored as SHA-256/base64url and the raw value is removed from the
 * payload (`jti`; an Interaction's copy of the session cookie). `find` is always called with the raw
 * value, so it puts `jti` back before oidc-provider sees the payload. Client secrets are stored as
 * digests too (`client-secret.ts`).
 *
 * One-time use is enforced here, not by oidc-provider: its grant handlers call `consume()` without
 * looking at a result, so two concurrent redemptions of one code or refresh token would both
 * succeed. `storage.consume()` is atomic and returns whether this caller won; every loser gets
 * `invalid_grant` before any token is minted. A lost race on an authorization code is treated as
 * code reuse (RFC 6749 §4.1.2: revoke what the code produced).
 *
 * Refresh-token reuse: a consumed refresh token presented again *after* the grace window is left
 * to oidc-provider, which revokes the whole grant (RFC 9700 §4.14.2). Within the window it is
 * refused with `invalid_grant` and the grant is left alone, so a client retrying a request whose
 * response it lost is not logged out by its own retry — but no second token pair is ever minted.
 *
 * A token request naming a `resource` other than ours is refused with `invalid_target` here, before
 * the code or refresh token is consumed: oidc-provider checks the resource only after consuming, so a
 * client's corrected retry would otherwise look like a replay and cost the user the grant.
 */

import Provider, { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { Audit } from '../audit/audit.ts';
import { hashTokenId, SIDECAR } from '../storage/sidecar.ts';
import type { OidcModel, OidcPayload, Storage } from '../storage/types.ts';
import { hashClientSecret, isHashedClientSecret } from './client-secret.ts';
import { revokeGrantRows } from './grant-rows.ts';

export { hashTokenId, SIDECAR };

/** Prefix of an id that is already the stored digest (a DeviceCode found by its user code). */
const DIGEST_ID = 'digest:';

/** Models whose id is a bearer secret. Client, Grant and ReplayDetection ids are not. */
const SECRET_IDS: ReadonlySet<OidcModel> = new Set<OidcModel>([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'ClientCredentials',
  'InitialAccessToken',
  'RegistrationAccessToken',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
  'Session',
  'Interaction',
]);

export interface GrantSidecar {
  /** The user ticked "remember my decision" for this client. */
  readonly remember?: boolean;
  /**
   * The resource server answered 403 insufficient_scope for these scopes under this grant (ms since
   * the epoch). The next refresh that cannot cover them is refused once (`answered` after that), and
   * the next consent of this user for this client offers them (see `grants.ts`).
   */
  readonly stepUp?: { readonly scopes: readonly string[]; readonly at: number; readonly answered?: boolean };
}

export interface AdapterOptions {
  readonly storage: Storage;
  /** Dynamically registered clients expire after this much idle time (slid forward on use). */
  readonly clientIdleTtlSeconds: number;
  readonly refreshReuseGraceSeconds: number;
  /** The one RFC 8707 resource this server issues tokens for (the MCP endpoint). */
  readonly resource: string;
  readonly now?: () => number;
  /** Records the grant this adapter revokes itself (a code redeemed twice at once). */
  readonly audit?: Audit;
}

/**
 * The sidecar of each Grant row this adapter read for a token request, by grant id: the refresh
 * grant's step-up check (`step-up.ts`) asks it first, so a refresh reads the grant row once, not
 * twice. Keyed by the request's Koa context, so nothing outlives the request.
 */
const grantSidecarsRead = new WeakMap<object, Map<string, GrantSidecar | undefined>>();

/** What this request read of the grant's sidecar; `undefined` when it did not read the grant. */
export function grantSidecarReadBy(ctx: object, grantId: string): { sidecar?: GrantSidecar } | undefined {
  const read = grantSidecarsRead.get(ctx);
  return read?.has(grantId) ? { sidecar: read.get(grantId) } : undefined;
}

function rememberGrantSidecar(grantId: string, sidecar: unknown): void {
  const ctx = Provider.ctx;
  if (ctx?.oidc?.route !== 'token') return;
  const read = grantSidecarsRead.get(ctx) ?? new Map<string, GrantSidecar | undefined>();
  grantSidecarsRead.set(ctx, read);
  read.set(grantId, sidecar as GrantSidecar | undefined);
}

export function createAdapterFactory(options: AdapterOptions): (name: string) => Adapter {
  return (name) => new StorageAdapter(name as OidcModel, options);
}

class StorageAdapter implements Adapter {
  readonly #model: OidcModel;
  readonly #storage: Storage;
  readonly #options: AdapterOptions;

  constructor(model: OidcModel, options: AdapterOptions) {
    this.#model = model;
    this.#storage = options.storage;
    this.#options = options;
  }

  #key(id: string): string {
    if (!SECRET_IDS.has(this.#model)) return id;
    // A device code found by its user code carries its digest as id (see findByUserCode). Only
    // server-side steps hold such ids; a client presenting one at the token endpoint is refused.
    if (id.startsWith(DIGEST_ID)) {
      if (Provider.ctx?.oidc?.route === 'token') throw new errors.InvalidGrant('device code not found');
      return id.slice(DIGEST_ID.length);
    }
    return hashTokenId(id);
  }

  #nowSeconds(): number {
    return Math.floor((this.#options.now ?? Date.now)() / 1000);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const stored: OidcPayload = { ...payload };
    let ttl = expiresIn;
    if (SECRET_IDS.has(this.#model)) delete stored.jti;
    if (this.#model === 'Interaction' && isObject(stored.session)) {
      const { cookie: _cookie, ...session } = stored.session;
      stored.session = session;
    }
    if (this.#model === 'Client') {
      if (typeof stored.client_secret === 'string' && !isHashedClientSecret(stored.client_secret)) {
        stored.client_secret = hashClientSecret(stored.client_secret);
      }
      ttl ??= this.#options.clientIdleTtlSeconds;
    }
    if (this.#model === 'DeviceCode') stored[SIDECAR] = { digest: this.#key(id) };
    if (this.#model === 'Grant') {
      const previous = await this.#storage.find('Grant', id);
      if (previous?.[SIDECAR] !== undefined) stored[SIDECAR] = previous[SIDECAR];
    }
    await this.#storage.upsert(this.#model, this.#key(id), stored, ttl);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (typeof id !== 'string' || id === '') return undefined;
    const payload = await this.#storage.find(this.#model, this.#key(id));
    if (!payload) return undefined;
    const { [SIDECAR]: sidecar, ...rest } = payload;
    if (this.#model === 'Grant') rememberGrantSidecar(id, sidecar);
    if (SECRET_IDS.has(this.#model)) rest.jti = id;
    if (this.#model === 'RefreshToken') this.#refuseRetryWithinGrace(rest);
    return rest as AdapterPayload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const payload = await this.#storage.findByUid(this.#model, uid);
    return payload as AdapterPayload | undefined;
  }

  /**
   * The device-flow page finds a DeviceCode by its user code, then saves it (approved, denied, in
   * flight). Only the device code's digest is stored, so the row's id is handed out as a digest id
   * that `#key` maps back to the same row.
   */
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const payload = await this.#storage.findByUserCode(this.#model, userCode);
    if (!payload) return undefined;
    const { [SIDECAR]: sidecar, ...rest } = payload;
    const digest = (sidecar as { digest?: unknown } | undefined)?.digest;
    if (typeof digest === 'string') rest.jti = `${DIGEST_ID}${digest}`;
    return rest as AdapterPayload;
  }

  async consume(id: string): Promise<void> {
    if (this.#model === 'AuthorizationCode' || this.#model === 'RefreshToken') this.#refuseForeignResource();
    const key = this.#key(id);
    if (await this.#storage.consume(this.#model, key)) return;
    if (this.#model === 'AuthorizationCode') {
      const code = await this.#storage.find(this.#model, key);
      if (typeof code?.grantId === 'string') {
        await revokeGrantRows(this.#storage, code.grantId);
        await this.#options.audit?.record({
          type: 'grant.revoked',
          userId: typeof code.accountId === 'string' ? code.accountId : undefined,
          clientId: typeof code.clientId === 'string' ? code.clientId : undefined,
          grantId: code.grantId,
          details: { by: 'code_reuse' },
        });
      }
      throw new errors.InvalidGrant('authorization code already consumed');
    }
    throw new errors.InvalidGrant(`${describe(this.#model)} already used`);
  }

  async destroy(id: string): Promise<void> {
    await this.#storage.destroy(this.#model, this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#storage.revokeByGrantId(grantId);
  }

  /** At the token endpoint: any `resource` but ours is `invalid_target`, before anything is consumed. */
  #refuseForeignResource(): void {
    const ctx = Provider.ctx;
    if (ctx?.oidc?.route !== 'token') return;
    const requested: unknown = ctx.oidc.params?.resource;
    const list = requested === undefined ? [] : Array.isArray(requested) ? requested : [requested];
    if (list.some((r) => r !== this.#options.resource)) {
      throw new errors.InvalidTarget(`unknown resource; this server protects ${this.#options.resource} only`);
    }
  }

  /**
   * Only on the token endpoint's refresh grant: a consumed token inside the grace window is refused
   * here, before oidc-provider's reuse handling would revoke the grant.
   */
  #refuseRetryWithinGrace(payload: OidcPayload): void {
    if (typeof payload.consumed !== 'number') return;
    const ctx = Provider.ctx;
    if (ctx?.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== 'refresh_token') return;
    // `consumed` has whole-second resolution, so `<=` grants at least the configured window; a window
    // of 0 means no grace at all, even within the same second.
    const grace = this.#options.refreshReuseGraceSeconds;
    if (grace > 0 && this.#nowSeconds() - payload.consumed <= grace) {
      throw new errors.InvalidGrant('refresh token already used (retry within the reuse grace window)');
    }
  }
}

function describe(model: OidcModel): string {
  return model === 'RefreshToken' ? 'refresh token' : model;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
