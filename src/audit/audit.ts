/**
 * The one emit point of the audit log. Every security-relevant event goes through `record`, which
 * gives it an id and time, fills in the request's IP and user agent, removes anything secret-looking
 * from the details, writes it through storage (kept SEKISHO_AUDIT_RETENTION_DAYS), writes it to the
 * log stream, and tells the observers (the security metrics). Parts receive an `Audit` from the
 * composition root; none logs security events by itself.
 *
 * A failed write never fails the action it records (a sign-in must not break because the audit table
 * is locked); it is logged at error level with the whole record, so the log stream still has it.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import { currentRequest } from '../observability/request-context.ts';
import type { AuditActor, AuditRecord, AuditStore } from '../storage/types.ts';
import type { AuditEvent } from './events.ts';

export interface Audit {
  record(event: AuditEvent): Promise<void>;
  /** The same log, recording as `actor` by default (the CLI as the operator, the console as an admin). */
  as(actor: AuditActor): Audit;
}

export interface AuditOptions {
  readonly storage: Pick<AuditStore, 'appendAudit'>;
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Who acts when an event names no actor (default: Sekisho itself). */
  readonly actor?: AuditActor;
  /** Called with every record after it is built (metrics); must not throw. */
  readonly observers?: readonly ((record: AuditRecord) => void)[];
}

/** Detail keys that could carry a credential: dropped whatever their value. */
const SECRET_KEY =
  /pass(word)?|secret|token|cookie|authorization|code_verifier|^code$|assertion|private|jwk/i;
const MAX_TEXT = 512;
const MAX_LIST = 50;

export function createAudit(options: AuditOptions): Audit {
  const now = options.now ?? Date.now;
  const observers = options.observers ?? [];
  const build = (event: AuditEvent, actor: AuditActor): AuditRecord => {
    const request = currentRequest();
    const at = now();
    const ip = event.ip ?? request?.clientIp;
    const userAgent = event.userAgent ?? request?.userAgent;
    return {
      id: nextId(at),
      at,
      type: event.type,
      outcome: event.outcome ?? 'success',
      actor: event.actor ?? actor,
      ...(event.userId ? { userId: clip(event.userId) } : {}),
      ...(event.clientId ? { clientId: clip(event.clientId) } : {}),
      ...(event.grantId ? { grantId: clip(event.grantId) } : {}),
      ...(ip ? { ip: clip(ip) } : {}),
      ...(userAgent ? { userAgent: clip(userAgent) } : {}),
      details: cleanDetails(event.details ?? {}),
    };
  };
  const bound = (actor: AuditActor): Audit => ({
    async record(event) {
      const record = build(event, actor);
      for (const observe of observers) observe(record);
      options.logger?.info({ audit: record }, `audit ${record.type}`);
      try {
        await options.storage.appendAudit(record);
      } catch (err) {
        options.logger?.error({ err, audit: record }, 'audit record not stored');
      }
    },
    as: (next) => bound(next),
  });
  return bound(options.actor ?? { kind: 'system' });
}

/** Plain values only, bounded, and never under a key that could hold a credential. */
export function cleanDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined || SECRET_KEY.test(key)) continue;
    if (typeof value === 'string') out[key] = clip(value);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === null) out[key] = value;
    else if (Array.isArray(value)) out[key] = value.slice(0, MAX_LIST).map((v) => clip(String(v)));
  }
  return out;
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

let lastAt = 0;
let sequence = 0;

/**
 * `aud_` + time (base 36, fixed width) + a per-millisecond sequence + randomness: ids sort in the
 * order records were made within one process, and never collide across processes.
 */
function nextId(at: number): string {
  sequence = at === lastAt ? sequence + 1 : 0;
  lastAt = at;
  const time = Math.max(0, Math.trunc(at)).toString(36).padStart(9, '0');
  return `aud_${time}${sequence.toString(36).padStart(4, '0')}${randomBytes(6).toString('base64url')}`;
}

/** An audit that records nothing: for parts built without one (unit tests of other concerns). */
export const NO_AUDIT: Audit = {
  record: async () => {},
  as: () => NO_AUDIT,
};
