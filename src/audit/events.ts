/**
 * The audit log's vocabulary: every security-relevant event type, once. The console's filter, the
 * CLI's `--type`, the metrics and the docs (docs/operations.md) all read this list.
 */
import type { AuditActor, AuditRecord } from '../storage/types.ts';

export type { AuditActor, AuditRecord };

export const AUDIT_EVENT_TYPES = [
  'signin.succeeded',
  'signin.failed',
  'signin.throttled',
  'consent.granted',
  'consent.denied',
  'grant.issued',
  'grant.widened',
  'grant.revoked',
  'refresh_token.reused',
  'client.registered',
  'client.expired',
  'client.removed',
  'user.created',
  'user.changed',
  'user.removed',
  'user.role_changed',
  'user.password_changed',
  'key.rotated',
  'admin.action',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** A detail value: plain data only, so nothing with behaviour or hidden state reaches the log. */
export type AuditValue = string | number | boolean | null | readonly string[];

/** What a caller of `audit.record` says; the service adds id, time, and the request's IP and user agent. */
export interface AuditEvent {
  readonly type: AuditEventType;
  /** Default `success`; refused sign-ins and other refusals are `failure`. */
  readonly outcome?: AuditRecord['outcome'];
  /** Default: the service's own actor (the server: `system`; the CLI: `cli`). */
  readonly actor?: AuditActor;
  readonly userId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly grantId?: string | undefined;
  /** Default: the current request's TCP peer (observability/request-context.ts). */
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly details?: Readonly<Record<string, AuditValue | undefined>>;
}

export function isAuditEventType(value: string): value is AuditEventType {
  return (AUDIT_EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * The exact types a filter word names: an exact type (`signin.failed`) or a family (`signin`,
 * `grant`). Undefined when it names none, so the edge can answer with the list instead of nothing.
 */
export function typesMatching(word: string): AuditEventType[] | undefined {
  const w = word.trim().toLowerCase();
  const matches = AUDIT_EVENT_TYPES.filter((t) => t === w || t.startsWith(`${w}.`));
  return matches.length > 0 ? matches : undefined;
}

/** How a grant came to be revoked, in `grant.revoked` details (`by`). */
export type RevokedBy =
  | 'user'
  | 'admin_console'
  | 'admin_tool'
  | 'cli'
  | 'client'
  | 'reuse_detection'
  | 'code_reuse'
  | 'user_lifecycle'
  /** An in-process call without a named actor (tests, embedding code). */
  | 'api';
