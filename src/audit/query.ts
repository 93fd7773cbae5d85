/**
 * Audit filters as people type them (the CLI's `--user --client --type --since`, the console's
 * filter form) turned into a storage `AuditQuery`, with one error type for every bad value so each
 * edge can answer it plainly (usage error, 400 page).
 */
import type { AuditQuery } from '../storage/types.ts';
import { AUDIT_EVENT_TYPES, typesMatching } from './events.ts';

export class AuditFilterError extends Error {
  override readonly name = 'AuditFilterError';
}

export interface AuditFilterInput {
  /** A username or a user id. */
  readonly user?: string | undefined;
  readonly client?: string | undefined;
  /** An event type or a family (`signin`, `grant`). */
  readonly type?: string | undefined;
  /** An ISO 8601 date or time, or an age: `30m`, `24h`, `7d`. */
  readonly since?: string | undefined;
  readonly limit?: number | undefined;
}

const AGE = /^(\d{1,6})\s*([mhd])$/i;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_FILTER_TEXT = 200;

/** ms since the epoch for a `since` value, relative to `now`. */
export function parseSince(text: string, now: number): number {
  const value = text.trim();
  const age = AGE.exec(value);
  if (age) return now - Number(age[1]) * UNIT_MS[age[2]!.toLowerCase()]!;
  // Dates only in ISO 8601 form: Date.parse accepts many locale-dependent shapes.
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const ms = Date.parse(value.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms;
  }
  throw new AuditFilterError(
    `since must be an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00Z) or an age (30m, 24h, 7d): ${value.slice(0, 40)}`,
  );
}

/**
 * The storage query for a filter. `userIdOf` resolves a username to its id (undefined when unknown:
 * the value is then taken as an id, so records of a removed user stay findable by id).
 */
export async function auditQueryFrom(
  input: AuditFilterInput,
  userIdOf: (usernameOrId: string) => Promise<string | undefined>,
  now: number = Date.now(),
): Promise<AuditQuery> {
  const text = (value: string | undefined, name: string) => {
    const v = value?.trim();
    if (!v) return undefined;
    if (v.length > MAX_FILTER_TEXT) throw new AuditFilterError(`${name} is too long`);
    return v;
  };
  const user = text(input.user, 'user');
  const client = text(input.client, 'client');
  const type = text(input.type, 'type');
  const since = text(input.since, 'since');
  const types = type === undefined ? undefined : typesMatching(type);
  if (type !== undefined && types === undefined) {
    throw new AuditFilterError(`unknown event type: ${type} (types: ${AUDIT_EVENT_TYPES.join(', ')})`);
  }
  if (input.limit !== undefined && (!Number.isInteger(input.limit) || input.limit < 1)) {
    throw new AuditFilterError('limit must be a whole number of at least 1');
  }
  return {
    ...(user === undefined ? {} : { userId: (await userIdOf(user)) ?? user }),
    ...(client === undefined ? {} : { clientId: client }),
    ...(types === undefined ? {} : { types }),
    ...(since === undefined ? {} : { since: parseSince(since, now) }),
    ...(input.limit === undefined ? {} : { limit: input.limit }),
  };
}
