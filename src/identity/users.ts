/**
 * Local accounts: add, look up, change and authenticate users, with login throttling. The OAuth
 * `accountId` of a user is its `id` (stable, random), never the username, so renaming policies or
 * reusing a username can never inherit someone else's grants.
 *
 * Throttling, as large identity providers do it (OWASP Authentication Cheat Sheet; NIST SP 800-63B
 * §5.2.2), with no lock a stranger can put on someone else's account:
 *  - per (username, IP): every attempt is counted atomically *before* the password is checked, so a
 *    burst of parallel guesses cannot exceed the limit; a success clears the pair. A stranger who
 *    exhausts it blocks only their own address for that username — the owner, from anywhere else,
 *    still signs in.
 *  - per IP: password checks that failed (plus those in flight) are limited, across usernames. The
 *    count is taken atomically before the check, and a success gives its own count back, so an office
 *    behind one NAT address signing in all morning is never throttled, while 60 parallel wrong guesses
 *    from one address are cut at exactly the limit.
 *  - per username, from any IP: failures add a progressive delay (250 ms doubling, capped) before the
 *    check — it slows a distributed guesser down without ever refusing the right password.
 * Both counters and the delay apply to unknown usernames too, and an unknown username costs the same
 * scrypt work through the same bounded pool (hash-pool.ts) as a known one, so neither the answer nor
 * its timing reveals who has an account.
 *
 * Lifecycle: a new password or a removed account ends that user's sign-in sessions (oidc-provider
 * `Session` rows) and revokes their grants with every token issued under them (`endSignIns`); a
 * lowered role ends the sessions and clamps the grants to the new role (never wider than it).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../access/scopes.ts';
import { type Audit, NO_AUDIT } from '../audit/audit.ts';
import type { AuditActor } from '../audit/events.ts';
import type { Logger } from '../observability/logger.ts';
import { DuplicateError } from '../storage/errors.ts';
import { secondsUntilWindowEnds } from '../storage/rate-window.ts';
import type { Storage, UserRecord } from '../storage/types.ts';
import { HashBusyError, type HashPool } from './hash-pool.ts';
import {
  hashPassword,
  needsRehash,
  passwordTooLong,
  type ScryptParams,
  verifyAgainstDummy,
  verifyPassword,
} from './password.ts';
import {
  IdentityError,
  normaliseUsername,
  requireEmail,
  requireName,
  requirePassword,
  requireRole,
  requireUsername,
} from './validation.ts';

/** A user as the rest of the server sees it: never the password hash. */
export type User = Omit<UserRecord, 'passwordHash'>;

export type AuthResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly reason: 'invalid' }
  /** Too many attempts from this address (for this username, or overall): wait for the window. */
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterSeconds: number }
  /**
   * Password checking is at capacity (nothing was checked or counted against anyone): retry soon.
   * `byAddress`: this address already holds its whole share of the checks — its own doing (a 429 at
   * the edge), not the server's (a 503).
   */
  | {
      readonly ok: false;
      readonly reason: 'busy';
      readonly retryAfterSeconds: number;
      readonly byAddress: boolean;
    };

export interface LoginThrottle {
  /** Attempts per (username, client IP) per window; a successful sign-in clears it. */
  readonly perAccountIp: number;
  /** Failed password checks per client IP per window, across usernames. */
  readonly perIp: number;
  readonly windowSeconds: number;
  /** Failures of one username (from any IP) in the window before each attempt is delayed. */
  readonly delayAfter: number;
  /** Longest progressive delay, ms (250 ms doubling per further failure up to this). */
  readonly maxDelayMs: number;
}

export const DEFAULT_THROTTLE: LoginThrottle = {
  perAccountIp: 5,
  perIp: 20,
  windowSeconds: 15 * 60,
  delayAfter: 5,
  maxDelayMs: 2_000,
};

/** The delay before checking a password for a username with `failures` recent failures. */
export function progressiveDelayMs(failures: number, limits: LoginThrottle): number {
  if (failures < limits.delayAfter) return 0;
  return Math.min(limits.maxDelayMs, 250 * 2 ** Math.min(failures - limits.delayAfter, 16));
}

export interface NewUser {
  readonly username: string;
  readonly password: string;
  readonly name?: string;
  readonly email?: string;
  readonly role?: Role;
}

/** Who asked for a change to an account (the audit log's actor; default: the identity's own). */
export interface ChangedBy {
  readonly by?: AuditActor;
}

export interface Identity {
  /** Checks a password (throttled; see above) and records the attempt in the audit log. */
  authenticate(username: string, password: string, ip: string): Promise<AuthResult>;
  /** Throws IdentityError (invalid_* / weak_password / duplicate_username). */
  addUser(input: NewUser, opts?: { allowWeakPassword?: boolean } & ChangedBy): Promise<User>;
  listUsers(): Promise<User[]>;
  findById(id: string): Promise<User | undefined>;
  findByUsername(username: string): Promise<User | undefined>;
  /**
   * A short value that changes whenever the user's password or role changes (undefined: no such
   * user). Pages bind their own sign-in cookies to it, so those die with the old credentials too.
   */
  credentialStamp(id: string): Promise<string | undefined>;
  /** Deletes the user and revokes everything issued to them (grants, their tokens, sessions). */
  removeUser(username: string, opts?: ChangedBy): Promise<User>;
  /** Sets a new password; ends the user's sessions and revokes their grants. */
  setPassword(username: string, password: string, opts?: ChangedBy): Promise<User>;
  /** Changes the role; lowering it ends the user's sessions (grants are clamped to the new role). */
  setRole(username: string, role: Role, opts?: ChangedBy): Promise<User>;
  /**
   * Disables the account (no sign-in, its sessions end and its grants are revoked) or enables it
   * again. A disabled user's tokens are refused even before their grants are gone (resource/caller.ts).
   */
  setDisabled(username: string, disabled: boolean, opts?: ChangedBy): Promise<User>;
  /**
   * Ends the user's browser sessions and revokes every grant with its tokens (access withdrawn);
   * each revocation is recorded with `because`.
   */
  endSignIns(id: string, because: string, opts?: ChangedBy): Promise<void>;
}

export interface IdentityOptions {
  readonly storage: Storage;
  readonly logger?: Logger;
  /** Where sign-ins and account changes are recorded (default: nowhere, for unit tests). */
  readonly audit?: Audit;
  /** ms since the epoch; must be the same clock the storage uses for windows. */
  readonly now?: () => number;
  readonly throttle?: LoginThrottle;
  /** Where passwords are hashed (the server's configured pool; default: the process-wide one). */
  readonly hashPool?: HashPool;
  /** scrypt cost for new hashes (default DEFAULT_SCRYPT); tests pass a cheap one. */
  readonly scrypt?: ScryptParams;
  /** For tests: how the progressive delay waits. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export function newUserId(): string {
  return `usr_${randomBytes(16).toString('base64url')}`;
}

export function createIdentity(options: IdentityOptions): Identity {
  const { storage, logger, hashPool } = options;
  const audit = options.audit ?? NO_AUDIT;
  const now = options.now ?? Date.now;
  const limits = options.throttle ?? DEFAULT_THROTTLE;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const window = limits.windowSeconds;
  const throttled = (): AuthResult => ({
    ok: false,
    reason: 'throttled',
    retryAfterSeconds: secondsUntilWindowEnds(window, now()),
  });
  const hash = (password: string) => hashPassword(password, options.scrypt, hashPool);

  /**
   * A window counter that can give an attempt back: `take` adds one atomically and returns the count
   * minus what was given back (one `hit` each, so no backend needs more than an atomic increment).
   */
  const counter = (key: string) => ({
    take: async () => (await storage.hit(key, window)) - (await storage.peek(`${key}:back`, window)),
    giveBack: async () => void (await storage.hit(`${key}:back`, window)),
    clear: async () => {
      await storage.reset(key);
      await storage.reset(`${key}:back`);
    },
  });

  async function requireUser(username: string): Promise<UserRecord> {
    const record = await storage.findUserByUsername(requireUsername(username));
    if (!record) throw new IdentityError('not_found', `no such user: ${username.trim().toLowerCase()}`);
    return record;
  }

  /** Ends every browser session of the user (no more silent `prompt=none` sign-ins). */
  async function endSessions(userId: string): Promise<void> {
    for (const session of await storage.list('Session', { accountId: userId })) {
      await storage.destroy('Session', session.id);
    }
  }

  /** Ends the user's sessions and revokes every grant with the tokens issued under it. */
  async function endSignIns(userId: string, by: AuditActor | undefined, because: string): Promise<void> {
    await endSessions(userId);
    for (const grant of await storage.list('Grant', { accountId: userId })) {
      await storage.revokeByGrantId(grant.id);
      await storage.destroy('Grant', grant.id);
      const clientId = grant.payload.clientId;
      await audit.record({
        type: 'grant.revoked',
        actor: by,
        userId,
        grantId: grant.id,
        clientId: typeof clientId === 'string' ? clientId : undefined,
        details: { by: 'user_lifecycle', because },
      });
    }
  }

  /** A sign-in attempt for the audit log: the username only when it is a well-formed one. */
  const signIn = (
    type: 'signin.succeeded' | 'signin.failed' | 'signin.throttled',
    ip: string,
    username: string | undefined,
    details: Record<string, string> = {},
    userId?: string,
  ) =>
    audit.record({
      type,
      outcome: type === 'signin.succeeded' ? 'success' : 'failure',
      actor: userId ? { kind: 'user', id: userId } : { kind: 'user' },
      userId,
      ip,
      details: { username, ...details },
    });

  return {
    async authenticate(rawUsername, password, ip) {
      // Unparseable usernames still count (under their raw lower-cased form, bounded) and cost a hash.
      const valid = normaliseUsername(rawUsername);
      const username = valid ?? rawUsername.trim().toLowerCase().slice(0, 128);
      const byIp = counter(`login:ip:${ip}`);
      const byPair = counter(`login:pair:${ip}:${username}`);
      const failuresOf = `login:failures:${username}`;

      if ((await byIp.take()) > limits.perIp) {
        await signIn('signin.throttled', ip, valid, { limit: 'ip' });
        return throttled();
      }
      if ((await byPair.take()) > limits.perAccountIp) {
        await byIp.giveBack(); // no password was checked
        await signIn('signin.throttled', ip, valid, { limit: 'username_ip' });
        return throttled();
      }
      const delay = progressiveDelayMs(await storage.peek(failuresOf, window), limits);
      if (delay > 0) await sleep(delay);

      let ok: boolean;
      const record = valid ? await storage.findUserByUsername(username) : undefined;
      try {
        ok =
          record && !passwordTooLong(password)
            ? await verifyPassword(password, record.passwordHash, hashPool, ip)
            : await verifyAgainstDummy(password.slice(0, 1024), hashPool, options.scrypt, ip);
      } catch (error) {
        if (!(error instanceof HashBusyError)) throw error;
        // Nothing was checked: the attempt counts against no one.
        await Promise.all([byIp.giveBack(), byPair.giveBack()]);
        const byAddress = error.by === 'address';
        logger?.warn({ ip, byAddress }, 'login refused: password hashing at capacity');
        await signIn('signin.failed', ip, valid, { reason: 'busy' });
        return { ok: false, reason: 'busy', retryAfterSeconds: error.retryAfterSeconds, byAddress };
      }
      if (!ok || !record) {
        await storage.hit(failuresOf, window);
        await signIn('signin.failed', ip, valid, { reason: record ? 'wrong_password' : 'unknown_user' });
        return { ok: false, reason: 'invalid' };
      }
      if (record.disabledAt !== undefined) {
        // The right password for a disabled account: the same answer as a wrong one, so a disabled
        // account cannot be told apart from a guess; the pair's count stays (nothing succeeded).
        await signIn('signin.failed', ip, valid, { reason: 'disabled' }, record.id);
        return { ok: false, reason: 'invalid' };
      }
      await Promise.all([byIp.giveBack(), byPair.clear()]);
      if (needsRehash(record.passwordHash, options.scrypt)) {
        try {
          await storage.updateUser(record.id, { passwordHash: await hash(password) });
        } catch (error) {
          if (!(error instanceof HashBusyError)) throw error; // rehashed on a later sign-in
        }
      }
      await signIn('signin.succeeded', ip, valid, {}, record.id);
      return { ok: true, user: toUser(record) };
    },

    async addUser(input, opts = {}) {
      const username = requireUsername(input.username);
      if (!opts.allowWeakPassword) requirePassword(input.password);
      const record: UserRecord = {
        id: newUserId(),
        username,
        name: requireName(input.name ?? username),
        email: requireEmail(input.email ?? ''),
        role: requireRole(input.role ?? 'user'),
        passwordHash: await hash(input.password),
        createdAt: now(),
      };
      try {
        await storage.createUser(record);
      } catch (error) {
        if (error instanceof DuplicateError) {
          throw new IdentityError('duplicate_username', `user ${username} already exists`);
        }
        throw error;
      }
      await audit.record({
        type: 'user.created',
        actor: opts.by,
        userId: record.id,
        details: { username, role: record.role },
      });
      return toUser(record);
    },

    async listUsers() {
      return (await storage.listUsers()).map(toUser);
    },
    async findById(id) {
      const record = await storage.findUserById(id);
      return record && toUser(record);
    },
    async findByUsername(username) {
      const normalised = normaliseUsername(username);
      const record = normalised ? await storage.findUserByUsername(normalised) : undefined;
      return record && toUser(record);
    },

    async credentialStamp(id) {
      const record = await storage.findUserById(id);
      if (!record) return undefined;
      return createHash('sha256')
        .update(`${record.role}\n${record.passwordHash}\n${record.disabledAt ?? ''}`)
        .digest('base64url')
        .slice(0, 16);
    },

    async removeUser(username, opts = {}) {
      const record = await requireUser(username);
      await storage.deleteUser(record.id);
      // A deleted account must not keep working through sessions or tokens it was issued.
      await endSignIns(record.id, opts.by, 'user_removed');
      await audit.record({
        type: 'user.removed',
        actor: opts.by,
        userId: record.id,
        details: { username: record.username, role: record.role },
      });
      return toUser(record);
    },

    async setPassword(username, password, opts = {}) {
      const record = await requireUser(username);
      requirePassword(password);
      await storage.updateUser(record.id, { passwordHash: await hash(password) });
      // Whoever held the old password may hold a session or a refresh token: both end here.
      await endSignIns(record.id, opts.by, 'password_changed');
      await audit.record({
        type: 'user.password_changed',
        actor: opts.by,
        userId: record.id,
        details: { username: record.username },
      });
      return toUser(record);
    },

    async setRole(username, role, opts = {}) {
      const record = await requireUser(username);
      const next = requireRole(role);
      await storage.updateUser(record.id, { role: next });
      // A lower role ends the browser sessions (signed in under the old role). Grants are clamped
      // rather than revoked: the bearer gate applies the current role on every request, and the
      // token endpoint narrows the grant to it at the next refresh (oauth/provider.ts findAccount).
      if (ROLE_RANK[next] < ROLE_RANK[record.role]) await endSessions(record.id);
      await audit.record({
        type: 'user.role_changed',
        actor: opts.by,
        userId: record.id,
        details: { username: record.username, from: record.role, to: next },
      });
      return { ...toUser(record), role: next };
    },

    async setDisabled(username, disabled, opts = {}) {
      const record = await requireUser(username);
      const disabledAt = disabled ? (record.disabledAt ?? now()) : undefined;
      await storage.updateUser(record.id, { disabledAt: disabledAt ?? null });
      if (disabled) await endSignIns(record.id, opts.by, 'user_disabled');
      await audit.record({
        type: 'user.changed',
        actor: opts.by,
        userId: record.id,
        details: { username: record.username, disabled },
      });
      const { disabledAt: _was, ...rest } = toUser(record);
      return disabledAt === undefined ? rest : { ...rest, disabledAt };
    },

    endSignIns: (id, because, opts = {}) => endSignIns(id, opts.by, because),
  };
}

const ROLE_RANK: Readonly<Record<Role, number>> = { user: 0, admin: 1 };

function toUser(record: UserRecord): User {
  const { passwordHash: _omit, ...user } = record;
  return user;
}
