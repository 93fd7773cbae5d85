/**
 * Who a 2025-era session belongs to. A session id is never authentication: every request still
 * passes the bearer gate, and then the caller it proves must be the session's owner — the same user
 * through the same client under the same grant (a service: the same client), or anonymous for an
 * anonymous session. Anything else is answered as if the session did not exist (404), so a leaked or
 * guessed id is worth nothing to another principal.
 */
import type { Caller } from '../../access/policy.ts';

export interface SessionOwner {
  readonly kind: Caller['kind'];
  /** The user id (users), the client id (services), '' (anonymous). */
  readonly subject: string;
  readonly clientId: string | undefined;
  readonly grantId: string | undefined;
  /** The pool the per-user cap counts in: one per user and client pair; anonymous callers share one. */
  readonly poolKey: string;
}

export function ownerOf(caller: Caller): SessionOwner {
  switch (caller.kind) {
    case 'anonymous':
      return {
        kind: 'anonymous',
        subject: '',
        clientId: undefined,
        grantId: undefined,
        poolKey: 'anonymous',
      };
    case 'service':
      return {
        kind: 'service',
        subject: caller.clientId,
        clientId: caller.clientId,
        grantId: undefined,
        poolKey: `service ${caller.clientId}`,
      };
    case 'user':
      return {
        kind: 'user',
        subject: caller.userId,
        clientId: caller.clientId,
        grantId: caller.grantId,
        poolKey: `user ${caller.userId} ${caller.clientId}`,
      };
  }
}

export function isOwner(owner: SessionOwner, caller: Caller): boolean {
  const other = ownerOf(caller);
  return (
    owner.kind === other.kind &&
    owner.subject === other.subject &&
    owner.clientId === other.clientId &&
    owner.grantId === other.grantId
  );
}
