/**
 * Local accounts: add, look up, change and authenticate users, with login throttling. The OAuth
 * `accountId` of a user is its `id` (stable, random), never the username, so renaming policies or
 * reusing a username can never inherit someone else's grants.
 *
 * Throttling (OWASP Authentication Cheat Sheet): per username, every attempt is counted atomically
 * *before* the password is checked, so a burst of parallel guesses cannot exceed the limit; a
 * successful login resets it. Per IP, failures are counted (so one office behind NAT signing in is
 * not throttled). Both counters apply to unknown usernames too, and an unknown username costs the
 * same scrypt work as a known one, so neither the answer nor its timing reveals who has an account.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from '../access/scopes.ts';
import type { Logger } from '../observability/logger.ts';
import { DuplicateError } from '../storage/errors.ts';
import { secondsUntilWindowEnds } from '../storage/rate-window.ts';
import type { Storage, UserRecord } from '../storage/types.ts';
import {
  hashPassword,
  needsRehash,
  passwordTooLong,
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
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterSeconds: number };

export interface LoginThrottle {
  /** Attempts per username per window. */
  readonly perUsername: number;
  /** Failed attempts per client IP per window. */
  readonly perIp: number;
  readonly windowSeconds: number;
}

export const DEFAULT_THROTTLE: LoginThrottle = { perUsername: 5, perIp: 20, windowSeconds: 15 * 60 };

export interface NewUser {
  readonly username: string;
  readonly password: string;
  readonly name?: string;
  readonly email?: string;
  readonly role?: Role;
}

export interface Identity {
  authenticate(username: string, password: string, ip: string): Promise<AuthResult>;
  /** Throws IdentityError (invalid_* / weak_password / duplicate_username). */
  addUser(input: NewUser, opts?: { allowWeakPassword?: boolean }): Promise<User>;
  listUsers(): Promise<User[]>;
  findById(id: string): Promise<User | undefined>;
  findByUsername(username: string): Promise<User | undefined>;
  /** Deletes the user and revokes everything issued to them (grants, their tokens, sessions). */
  removeUser(username: string): Promise<User>;
  setPassword(username: string, password: string): Promise<User>;
  setRole(username: string, role: Role): Promise<User>;
}

export interface IdentityOptions {
  readonly storage: Storage;
  readonly logger?: Logger;
  /** ms since the epoch; must be the same clock the storage uses for windows. */
  readonly now?: () => number;
  readonly throttle?: LoginThrottle;
}

export function newUserId(): string {
  return `usr_${randomBytes(16).toString('base64url')}`;
}

export function createIdentity(options: IdentityOptions): Identity {
  const { storage, logger } = options;
  const now = options.now ?? Date.now;
  const limits = options.throttle ?? DEFAULT_THROTTLE;
  const userKey = (u: string) => `login:user:${u}`;
  const ipKey = (ip: string) => `login:ip:${ip}`;
  const throttled = (): AuthResult => ({
    ok: false,
    reason: 'throttled',
    retryAfterSeconds: secondsUntilWindowEnds(limits.windowSeconds, now()),
  });

  async function requireUser(username: string): Promise<UserRecord> {
    const record = await storage.findUserByUsername(requireUsername(username));
    if (!record) throw new IdentityError('not_found', `no such user: ${username.trim().toLowerCase()}`);
    return record;
  }

  return {
    async authenticate(rawUsername, password, ip) {
      // Unparseable usernames still count (under their raw lower-cased form, bounded) and cost a hash.
      const username = normaliseUsername(rawUsername) ?? rawUsername.trim().toLowerCase().slice(0, 128);
      if ((await storage.peek(ipKey(ip), limits.windowSeconds)) >= limits.perIp) {
        logger?.info({ ip }, 'login throttled (ip)');
        return throttled();
      }
      if ((await storage.hit(userKey(username), limits.windowSeconds)) > limits.perUsername) {
        logger?.info({ ip }, 'login throttled (username)');
        return throttled();
      }
      const record = normaliseUsername(rawUsername) ? await storage.findUserByUsername(username) : undefined;
      const ok =
        record && !passwordTooLong(password)
          ? await verifyPassword(password, record.passwordHash)
          : await verifyAgainstDummy(password.slice(0, 1024));
      if (!ok || !record) {
        await storage.hit(ipKey(ip), limits.windowSeconds);
        logger?.info({ ip }, 'login failed');
        return { ok: false, reason: 'invalid' };
      }
      await storage.reset(userKey(username));
      if (needsRehash(record.passwordHash)) {
        await storage.updateUser(record.id, { passwordHash: await hashPassword(password) });
      }
      logger?.info({ userId: record.id }, 'login succeeded');
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
        passwordHash: await hashPassword(input.password),
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
      logger?.info({ userId: record.id, role: record.role }, 'user added');
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

    async removeUser(username) {
      const record = await requireUser(username);
      await storage.deleteUser(record.id);
      // A deleted account must not keep working through tokens it was issued.
      for (const grant of await storage.list('Grant', { accountId: record.id })) {
        await storage.revokeByGrantId(grant.id);
        await storage.destroy('Grant', grant.id);
      }
      for (const session of await storage.list('Session', { accountId: record.id })) {
        await storage.destroy('Session', session.id);
      }
      logger?.info({ userId: record.id }, 'user removed');
      return toUser(record);
    },

    async setPassword(username, password) {
      const record = await requireUser(username);
      requirePassword(password);
      await storage.updateUser(record.id, { passwordHash: await hashPassword(password) });
      await storage.reset(userKey(record.username));
      logger?.info({ userId: record.id }, 'password changed');
      return toUser(record);
    },

    async setRole(username, role) {
      const record = await requireUser(username);
      await storage.updateUser(record.id, { role: requireRole(role) });
      logger?.info({ userId: record.id, role }, 'role changed');
      return { ...toUser(record), role };
    },
  };
}

function toUser(record: UserRecord): User {
  const { passwordHash: _omit, ...user } = record;
  return user;
}
