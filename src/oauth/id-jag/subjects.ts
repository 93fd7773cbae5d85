/**
 * Which local user an enterprise identity acts as. The key is (IdP issuer, `sub`) — never an e-mail
 * address, which is neither unique nor stable (OpenID Connect Core §5.7) — through the
 * ExternalIdentityStore, so two IdPs (or two tenants of one) can never claim the same local user by
 * asserting the same address. Per IdP (`users`):
 *
 *  - `linked`: only an identity an operator linked (`sekisho users link`); anyone else is refused;
 *  - `jit`: an unknown subject gets a new local user on first use (role `jit_role`, a random password
 *    nobody knows, so it can sign in only through its IdP), linked atomically — two first requests
 *    at once end up with one user.
 *
 * Every use records the sign-in on the link (its time). The claims already stored with a link are
 * kept as they are: the same (issuer, subject) may have been linked by an upstream sign-in, whose
 * stored claims its role rules re-judge (`federation/provisioning.ts`) — an assertion must not
 * replace them. A link made here stores the asserted profile, marked `via: id_jag`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Identity, User } from '../../identity/users.ts';
import { IdentityError, requireEmail, requireName } from '../../identity/validation.ts';
import { DuplicateError } from '../../storage/errors.ts';
import type { ExternalIdentityStore } from '../../storage/types.ts';
import { IdJagError, type VerifiedIdJag } from './verify.ts';

export interface SubjectDeps {
  readonly links: ExternalIdentityStore;
  readonly identity: Pick<Identity, 'findById' | 'addUser'>;
}

/** `claims.via` of links made by a just-in-time provisioning. */
export const ID_JAG_LINK_MARK = 'id_jag';

export async function userForAssertion(deps: SubjectDeps, jag: VerifiedIdJag): Promise<User> {
  const { issuer } = jag.idp;
  const link = await deps.links.findExternalIdentity(issuer, jag.subject);
  const linked = link ? await deps.identity.findById(link.userId) : undefined;
  if (link && linked) {
    await deps.links.linkExternalIdentity({
      issuer,
      subject: jag.subject,
      userId: linked.id,
      claims: link.claims,
    });
    return linked;
  }
  if (jag.idp.users !== 'jit') {
    throw new IdJagError(
      'invalid_grant',
      'no local account is linked to this enterprise identity (an operator links one with `sekisho users link`)',
    );
  }
  return provision(deps, jag);
}

async function linkedUser(deps: SubjectDeps, issuer: string, subject: string): Promise<User | undefined> {
  const link = await deps.links.findExternalIdentity(issuer, subject);
  return link ? deps.identity.findById(link.userId) : undefined;
}

async function provision(deps: SubjectDeps, jag: VerifiedIdJag): Promise<User> {
  const { issuer, jitRole } = jag.idp;
  const username = jitUsername(issuer, jag.subject);
  let user: User;
  try {
    user = await deps.identity.addUser({
      username,
      password: randomBytes(32).toString('base64url'),
      name: validOr(() => requireName(String(jag.profile.name ?? '')), username),
      email:
        jag.profile.email_verified === true ? validOr(() => requireEmail(String(jag.profile.email)), '') : '',
      role: jitRole,
    });
  } catch (error) {
    // A concurrent first request provisioned the same subject: use what it linked.
    if (error instanceof IdentityError && error.code === 'duplicate_username') {
      const raced = await linkedUser(deps, issuer, jag.subject);
      if (raced) return raced;
      throw new IdJagError(
        'invalid_grant',
        'a local account for this enterprise identity exists but is not linked to it; an operator must link it',
      );
    }
    throw error;
  }
  try {
    await deps.links.linkExternalIdentity({
      issuer,
      subject: jag.subject,
      userId: user.id,
      claims: { ...jag.profile, via: ID_JAG_LINK_MARK },
    });
  } catch (error) {
    if (!(error instanceof DuplicateError)) throw error;
    const raced = await linkedUser(deps, issuer, jag.subject);
    if (raced) return raced;
    throw error;
  }
  return user;
}

/**
 * A stable, valid username per (issuer, subject): `sub` values are opaque and may hold anything, so
 * the name is derived from a digest of the pair rather than from the claim.
 */
export function jitUsername(issuer: string, subject: string): string {
  const digest = createHash('sha256').update(`${issuer}\n${subject}`).digest('hex').slice(0, 20);
  return `idp-${digest}`;
}

function validOr(check: () => string, fallback: string): string {
  try {
    return check() || fallback;
  } catch {
    return fallback;
  }
}
