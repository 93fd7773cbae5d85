/**
 * The storage seam. Everything the authorization server and the resource server persist goes
 * through this interface; `sqlite/` implements it for one machine, and a PostgreSQL + Redis
 * implementation can follow without reshaping callers. Atomic operations are named here
 * (consume-once, rotation, revocation) so every backend must provide them as single steps.
 *
 * Secrets at rest: token, code and client-secret values never reach a backend in clear. Callers pass
 * opaque ids; the oidc-provider adapter (`oauth/adapter.ts`) hashes token-bearing ids before they
 * get here, and `identity/` stores only password hashes.
 */
import type { Role } from '../access/scopes.ts';

/** oidc-provider model names persisted through the adapter. */
export type OidcModel =
  | 'Session'
  | 'AccessToken'
  | 'AuthorizationCode'
  | 'RefreshToken'
  | 'DeviceCode'
  | 'ClientCredentials'
  | 'Client'
  | 'InitialAccessToken'
  | 'RegistrationAccessToken'
  | 'Interaction'
  | 'ReplayDetection'
  | 'PushedAuthorizationRequest'
  | 'Grant'
  | 'BackchannelAuthenticationRequest'
  | 'PreAuthorizedCode'
  /** Sekisho's own: a pending sign-in round trip to an upstream OpenID provider (federation/). */
  | 'UpstreamLogin';

export interface OidcPayload {
  [key: string]: unknown;
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
}

/** The oidc-provider adapter contract, as single atomic steps. `id` is already hashed where it is a secret. */
export interface OidcStore {
  upsert(
    model: OidcModel,
    id: string,
    payload: OidcPayload,
    expiresInSeconds: number | undefined,
  ): Promise<void>;
  find(model: OidcModel, id: string): Promise<OidcPayload | undefined>;
  findByUid(model: OidcModel, uid: string): Promise<OidcPayload | undefined>;
  findByUserCode(model: OidcModel, userCode: string): Promise<OidcPayload | undefined>;
  /**
   * Marks the row consumed (sets `consumed` = now, seconds) only if it was not consumed yet.
   * Returns true for the one caller that won; every concurrent or later caller gets false.
   */
  consume(model: OidcModel, id: string): Promise<boolean>;
  destroy(model: OidcModel, id: string): Promise<void>;
  /** Deletes every row of every model that belongs to the grant. */
  revokeByGrantId(grantId: string): Promise<void>;
  /**
   * Lists live rows of one model (for account pages, CLI and admin tools). `accountId` matches
   * `payload.accountId`; `clientId` matches `payload.clientId`, or `payload.client_id` for `Client` rows.
   * Filtering by owner is for `LISTED_BY_OWNER` models only (Grant, Session, Client,
   * RegistrationAccessToken; `oidc-rows.ts`); for any other model it throws a TypeError.
   */
  list(model: OidcModel, filter?: { accountId?: string; clientId?: string }): Promise<OidcRow[]>;
  /**
   * Records a use of a live row: sets `lastUsedAt` = now and, when `expiresInSeconds` is given, slides
   * its expiry to now + that (unused dynamically registered clients expire). Returns false when the
   * row does not exist or has expired. The payload is not rewritten.
   */
  touch(model: OidcModel, id: string, expiresInSeconds?: number): Promise<boolean>;
  /**
   * Deletes the expired rows of one model now and returns them (the sweeper records each expired
   * client in the audit log before the general sweep would remove it silently).
   */
  takeExpired(model: OidcModel): Promise<OidcRow[]>;
}

/** One stored row as `list` returns it. Times are milliseconds since the epoch. */
export interface OidcRow {
  readonly id: string;
  readonly payload: OidcPayload;
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
  /** Last `touch`, or undefined if never touched. */
  readonly lastUsedAt: number | undefined;
}

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
  /** scrypt hash in PHC-like form; never the password. */
  readonly passwordHash: string;
  readonly createdAt: number;
  /** When an administrator disabled the account (ms); absent while it is enabled. */
  readonly disabledAt?: number;
}

/** What `updateUser` may change. `disabledAt: null` enables the account again; absent keeps it. */
export interface UserPatch {
  readonly name?: string;
  readonly email?: string;
  readonly role?: Role;
  readonly passwordHash?: string;
  readonly disabledAt?: number | null;
}

/**
 * What the /mcp gate needs behind a verified user token, in one read (one joined query): the live
 * Grant row's payload (undefined once revoked or expired) and the account (undefined once removed),
 * without its password hash — the gate caches this, and a hash has no business in that cache.
 */
export interface GrantAndUser {
  readonly grant: OidcPayload | undefined;
  readonly user: Omit<UserRecord, 'passwordHash'> | undefined;
}

export interface GateStore {
  findGrantAndUser(grantId: string, userId: string): Promise<GrantAndUser>;
}

export interface UserStore {
  /** Throws `DuplicateError` (storage/errors.ts) when the id or username is taken. */
  createUser(user: UserRecord): Promise<void>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  updateUser(id: string, patch: UserPatch): Promise<boolean>;
  deleteUser(id: string): Promise<boolean>;
}

/**
 * A user's account at an external identity provider, linked to a local user. The key is the pair
 * (issuer, subject) — OpenID Connect Core §5.7: `sub` is unique and stable only within its issuer,
 * and an e-mail address is neither unique nor stable — so two providers, or two tenants of one, can
 * never claim the same local user by asserting the same address.
 */
export interface ExternalIdentityRecord {
  /** The IdP's issuer identifier, exactly as its ID tokens carry it in `iss`. */
  readonly issuer: string;
  /** The IdP's `sub` for this user. */
  readonly subject: string;
  /** The local `UserRecord.id` this identity signs in as. */
  readonly userId: string;
  /**
   * The claims role mapping reads (groups/roles, e-mail and whether it is verified, names), as last
   * seen at sign-in. Kept so a refresh can re-judge the user against today's rules without calling
   * the IdP. Never tokens.
   */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** The last sign-in through this identity (ms since the epoch). */
  readonly lastLoginAt: number;
}

export interface ExternalIdentityLink {
  readonly issuer: string;
  readonly subject: string;
  readonly userId: string;
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface ExternalIdentityStore {
  findExternalIdentity(issuer: string, subject: string): Promise<ExternalIdentityRecord | undefined>;
  /**
   * Links (issuer, subject) to a user, or — when that pair is already linked to the same user —
   * records a sign-in: replaces `claims` and sets `lastLoginAt` = now. Throws `DuplicateError`
   * ('external_identity') when the pair is linked to another user, and ('user') when the user does
   * not exist. Atomic: two concurrent first sign-ins cannot both link the pair.
   */
  linkExternalIdentity(link: ExternalIdentityLink): Promise<void>;
  /** Every identity linked to the user, oldest first (deleting the user deletes its links). */
  listExternalIdentities(userId: string): Promise<ExternalIdentityRecord[]>;
  /** Removes one link; false when it did not exist. */
  unlinkExternalIdentity(issuer: string, subject: string): Promise<boolean>;
}

/** A signing key pair as JWKs (the private JWK includes `d`). */
export interface SigningKeyRecord {
  readonly kid: string;
  readonly privateJwk: Record<string, unknown>;
  readonly createdAt: number;
  /** When set, the key no longer signs; it stays published in JWKS until `retireAt` for overlap. */
  readonly rotatedAt: number | undefined;
}

export interface KeyStore {
  listKeys(): Promise<SigningKeyRecord[]>;
  addKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Atomically: add `candidate` as the active key only if no key is active yet; true when it was
   * added. Several instances starting together on an empty database all call this, then re-read the
   * keys, and so all sign (and derive cookie and CSRF keys) with the same one.
   */
  ensureActiveKey(candidate: SigningKeyRecord): Promise<boolean>;
  /** Atomically: mark every active key rotated (now) and add `next` as the active key. */
  rotateKeys(next: SigningKeyRecord, now: number): Promise<void>;
  /** Drop rotated keys older than `olderThan` (ms since epoch). */
  pruneKeys(olderThan: number): Promise<number>;
}

/**
 * Fixed-window counters for throttling (login attempts per user and per IP, registrations per IP).
 * Windows are aligned to multiples of `windowSeconds` since the Unix epoch, so a caller can tell
 * when the current one ends (`windowEndsAt` in storage/rate-window.ts) without asking the backend.
 * Use one `windowSeconds` per key.
 */
export interface RateLimitStore {
  /** Adds one hit to `key` in the window and returns the count inside the window, atomically. */
  hit(key: string, windowSeconds: number): Promise<number>;
  /** The count inside the current window, without adding a hit (0 when none). */
  peek(key: string, windowSeconds: number): Promise<number>;
  reset(key: string): Promise<void>;
}

/**
 * Remembers one-time values (a DPoP proof's `jti`, an ID-JAG assertion id) for as long as they could
 * be replayed. Not durable: losing it at a restart only matters within `ttlSeconds`, and the values it
 * protects are short-lived. Redis when configured (shared by every instance), else in process.
 */
export interface ReplayCache {
  /**
   * Records `key` for `ttlSeconds`. True for the one caller that saw it first; false for every later
   * or concurrent caller while it is remembered (a replay). Fails closed: a cache that cannot tell
   * answers false or throws, never true twice.
   */
  remember(key: string, ttlSeconds: number): Promise<boolean>;
}

/**
 * Who did something recorded in the audit log: the user it concerns (`user`: signing in, consenting,
 * revoking on the account page), an administrator (`admin`: console or admin tool; `id` is their user
 * id), an operator on the command line (`cli`; `name` is the OS account), an OAuth client acting on
 * its own registration or tokens (`client`), or Sekisho itself (`system`: reuse detection, expiry).
 */
export interface AuditActor {
  readonly kind: 'user' | 'admin' | 'cli' | 'client' | 'system';
  readonly id?: string;
  readonly name?: string;
}

/**
 * One security-relevant event, as stored. Never a secret: the audit service (`audit/audit.ts`) drops
 * secret-looking detail keys before a record reaches storage or the log. Times are ms since the epoch.
 */
export interface AuditRecord {
  /** Sortable: records with the same `at` from one process sort in the order they were made. */
  readonly id: string;
  readonly at: number;
  /** One of `AUDIT_EVENT_TYPES` (audit/events.ts), e.g. `signin.failed`. */
  readonly type: string;
  readonly outcome: 'success' | 'failure';
  readonly actor: AuditActor;
  /** The user the event concerns (not necessarily the actor). */
  readonly userId?: string;
  readonly clientId?: string;
  readonly grantId?: string;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditQuery {
  /** Records whose subject user *or* actor is this user id. */
  readonly userId?: string;
  readonly clientId?: string;
  /** Any of these exact types (empty or absent: all). */
  readonly types?: readonly string[];
  /** At or after (ms). */
  readonly since?: number;
  /** Strictly before (ms): the next page of a newest-first listing. */
  readonly until?: number;
  /** At most this many, newest first (default and ceiling: 1000). */
  readonly limit?: number;
}

export interface AuditStore {
  appendAudit(record: AuditRecord): Promise<void>;
  /** Newest first (`at`, then `id`, descending). */
  listAudit(query?: AuditQuery): Promise<AuditRecord[]>;
  /** Deletes records older than `olderThan` (ms); returns how many (the retention period). */
  pruneAudit(olderThan: number): Promise<number>;
}

export interface Storage
  extends OidcStore,
    UserStore,
    ExternalIdentityStore,
    KeyStore,
    RateLimitStore,
    AuditStore,
    GateStore {
  /**
   * A number that changes whenever another connection commits a write (SQLite's `PRAGMA
   * data_version`), so caches notice writes by another process such as the CLI; absent where the
   * backend cannot tell cheaply (PostgreSQL: caches bound their age instead).
   */
  dataVersion?(): number;
  /** Deletes expired rows; returns how many. Called periodically. */
  sweep(): Promise<number>;
  /** Cheap liveness check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
