/**
 * Local users for upstream identities, made just in time. The key is (issuer, subject) — never the
 * e-mail address, which is neither unique nor stable and which some providers let users type — so no
 * provider, and no second tenant of one, can take over an account by asserting an address.
 *
 * At every sign-in the profile (name, e-mail) is refreshed from the provider's claims and the role
 * re-judged by the mapping rules (role-mapping.ts); a lower role ends the user's sessions and clamps
 * their grants (identity `setRole`). A user the rules no longer admit is refused, and everything
 * issued to them is revoked at once.
 *
 * Between sign-ins, `rejudge` applies today's rules to the claims stored at the last sign-in: the
 * token endpoint calls it on every refresh (oauth/provider.ts `findAccount`), so a rule change takes
 * effect at the next refresh without the user signing in again. (A change made only at the
 * provider — a group taken away there — is seen at the next sign-in through it: Sekisho keeps no
 * upstream token to ask with.)
 */

import { randomBytes } from 'node:crypto';
import type { Role } from '../access/scopes.ts';
import { type Audit, NO_AUDIT } from '../audit/audit.ts';
import type { UpstreamProvider } from '../config/upstreams.ts';
import { HttpError } from '../http/errors.ts';
import { type Identity, newUserId, type User } from '../identity/users.ts';
import { normaliseUsername } from '../identity/validation.ts';
import type { Logger } from '../observability/logger.ts';
import { DuplicateError } from '../storage/errors.ts';
import type { Storage, UserRecord } from '../storage/types.ts';
import {
  judge,
  profileFrom,
  profileFromStored,
  profileToClaims,
  UPSTREAM_LINK_MARK,
  type UpstreamProfile,
  type Verdict,
} from './role-mapping.ts';

/** Stored as the password hash of accounts made here: it parses as no hash, so it never verifies. */
export const NO_LOCAL_PASSWORD = '!upstream';

export interface Provisioning {
  /** The local user for verified upstream claims (created, or refreshed); 403 when not admitted. */
  signIn(provider: UpstreamProvider, claims: Readonly<Record<string, unknown>>): Promise<User>;
  /**
   * Today's verdict for a local user signed in through a provider (from the claims of the last
   * sign-in); undefined for a user with no upstream identity (a local account).
   */
  rejudge(userId: string): Promise<Verdict | undefined>;
}

export interface ProvisioningDeps {
  readonly storage: Storage;
  readonly identity: Identity;
  readonly providers: readonly UpstreamProvider[];
  readonly logger: Logger;
  /** Upstream sign-ins, refusals and accounts made here go into the audit log like local ones. */
  readonly audit?: Audit;
  readonly now?: () => number;
}

export function createProvisioning(deps: ProvisioningDeps): Provisioning {
  const { storage, identity, logger } = deps;
  const audit = deps.audit ?? NO_AUDIT;
  const now = deps.now ?? Date.now;
  const signedIn = (user: Pick<User, 'id' | 'username'>, provider: UpstreamProvider, created: boolean) =>
    audit.record({
      type: 'signin.succeeded',
      actor: { kind: 'user', id: user.id },
      userId: user.id,
      details: { username: user.username, via: 'upstream', provider: provider.id, created },
    });
  const refusedSignIn = (provider: UpstreamProvider, reason: string, userId?: string) =>
    audit.record({
      type: 'signin.failed',
      outcome: 'failure',
      actor: userId ? { kind: 'user', id: userId } : { kind: 'user' },
      userId,
      details: { via: 'upstream', provider: provider.id, reason },
    });
  const byIssuer = new Map(deps.providers.map((p) => [p.issuer, p]));

  async function refresh(record: UserRecord, profile: UpstreamProfile, role: Role): Promise<User> {
    const patch: { name?: string; email?: string } = {};
    const name = displayName(profile);
    const email = cleanEmail(profile);
    if (name !== record.name) patch.name = name;
    if (email !== record.email) patch.email = email;
    if (Object.keys(patch).length > 0) await storage.updateUser(record.id, patch);
    // Through identity, so a lower role ends the sessions signed in under the higher one.
    if (role !== record.role) await identity.setRole(record.username, role);
    const { passwordHash: _omit, ...user } = { ...record, ...patch, role };
    return user;
  }

  async function create(profile: UpstreamProfile, role: Role): Promise<UserRecord> {
    const base = usernameBase(profile);
    // Bounded: a few readable names, then a random suffix that cannot collide in practice.
    for (let attempt = 0; attempt < 6; attempt++) {
      const suffix =
        attempt === 0 ? '' : attempt < 5 ? `-${attempt + 1}` : `-${randomBytes(4).toString('hex')}`;
      const record: UserRecord = {
        id: newUserId(),
        username: `${base.slice(0, 64 - suffix.length)}${suffix}`,
        name: displayName(profile),
        email: cleanEmail(profile),
        role,
        passwordHash: NO_LOCAL_PASSWORD,
        createdAt: now(),
      };
      try {
        await storage.createUser(record);
        return record;
      } catch (error) {
        if (!(error instanceof DuplicateError)) throw error;
      }
    }
    throw new HttpError(503, 'temporarily_unavailable', 'Could not pick a username; try again.');
  }

  return {
    async signIn(provider, claims) {
      const profile = profileFrom(claims, provider);
      const verdict = judge(profile, provider.rules);
      const link = await storage.findExternalIdentity(provider.issuer, profile.sub);
      const linked = link && (await storage.findUserById(link.userId));
      if (linked && linked.disabledAt !== undefined) {
        // An administrator disabled the account: the provider's word does not enable it again.
        await refusedSignIn(provider, 'disabled', linked.id);
        throw new HttpError(403, 'account_not_admitted', 'This account is disabled.');
      }
      if (!verdict.admitted) {
        await refusedSignIn(provider, 'not_admitted', linked?.id);
        if (linked) {
          // Refused today: whatever was issued under yesterday's verdict goes now, not at expiry.
          await identity.endSignIns(linked.id, 'upstream_refused');
          await storage.linkExternalIdentity({ ...link, claims: profileToClaims(profile) });
        }
        logger.info(
          { provider: provider.id, userId: linked?.id, because: verdict.because },
          'upstream sign-in refused by the role-mapping rules',
        );
        throw new HttpError(
          403,
          'account_not_admitted',
          `This account may not use this server: ${verdict.because}.`,
        );
      }
      const stored = profileToClaims(profile);
      if (linked) {
        const user = await refresh(linked, profile, verdict.role);
        await storage.linkExternalIdentity({
          issuer: provider.issuer,
          subject: profile.sub,
          userId: linked.id,
          claims: stored,
        });
        logger.info({ provider: provider.id, userId: user.id, role: user.role }, 'upstream sign-in');
        await signedIn(user, provider, false);
        return user;
      }
      const record = await create(profile, verdict.role);
      try {
        await storage.linkExternalIdentity({
          issuer: provider.issuer,
          subject: profile.sub,
          userId: record.id,
          claims: stored,
        });
      } catch (error) {
        await storage.deleteUser(record.id);
        if (!(error instanceof DuplicateError)) throw error;
        // A concurrent first sign-in of the same identity linked it first: use that user.
        const winner = await storage.findExternalIdentity(provider.issuer, profile.sub);
        const user = winner && (await storage.findUserById(winner.userId));
        if (!user) throw error;
        const refreshed = await refresh(user, profile, verdict.role);
        await signedIn(refreshed, provider, false);
        return refreshed;
      }
      logger.info(
        { provider: provider.id, userId: record.id, role: record.role },
        'upstream user provisioned',
      );
      await audit.record({
        type: 'user.created',
        userId: record.id,
        details: { username: record.username, role: record.role, via: 'upstream', provider: provider.id },
      });
      await signedIn(record, provider, true);
      const { passwordHash: _omit, ...user } = record;
      return user;
    },

    async rejudge(userId) {
      // Only links an upstream sign-in made: an operator's link or an enterprise (ID-JAG) subject
      // is not governed by these rules.
      const links = (await storage.listExternalIdentities(userId)).filter(
        (l) => l.claims.via === UPSTREAM_LINK_MARK,
      );
      if (links.length === 0) return undefined;
      let best: Verdict | undefined;
      for (const link of links) {
        const provider = byIssuer.get(link.issuer);
        // A provider taken out of the configuration admits nobody any more.
        const verdict: Verdict = provider
          ? judge(profileFromStored(link.claims), provider.rules)
          : { admitted: false, because: `the provider ${link.issuer} is no longer configured` };
        if (verdict.admitted && (!best?.admitted || verdict.role === 'admin')) best = verdict;
        else best ??= verdict;
      }
      return best;
    },
  };
}

function displayName(p: UpstreamProfile): string {
  const raw = (p.name ?? p.preferredUsername ?? p.email ?? p.sub).trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters never reach a page
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 100);
  return clean || 'User';
}

function cleanEmail(p: UpstreamProfile): string {
  // Only a verified address is shown as the user's: an unverified one may be anyone's.
  if (!p.email || !p.emailVerified) return '';
  return p.email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@.]+$/.test(p.email) ? p.email : '';
}

/** A readable username from the profile (preferred username, e-mail local part), else a neutral one. */
function usernameBase(p: UpstreamProfile): string {
  for (const candidate of [p.preferredUsername, p.email?.split('@')[0]]) {
    const slug = candidate
      ?.toLowerCase()
      .replace(/@.*$/, '')
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 48);
    if (slug && normaliseUsername(slug)) return slug;
  }
  return `user-${randomBytes(4).toString('hex')}`;
}
