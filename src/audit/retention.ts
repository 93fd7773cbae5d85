/**
 * What the periodic sweep (server.ts) does for the audit log: records each dynamically registered
 * client that expired unused (before the general sweep would delete it silently), and deletes records
 * older than SEKISHO_AUDIT_RETENTION_DAYS.
 */
import type { Storage } from '../storage/types.ts';
import type { Audit } from './audit.ts';

const DAY_MS = 86_400_000;

/** Dynamically registered clients unused for the idle TTL: removed, each one recorded. */
export async function recordExpiredClients(
  storage: Storage,
  audit: Audit,
  idleTtlSeconds: number,
): Promise<number> {
  const expired = await storage.takeExpired('Client');
  for (const row of expired) {
    const name = row.payload.client_name;
    await audit.record({
      type: 'client.expired',
      clientId: row.id,
      details: {
        name: typeof name === 'string' ? name : undefined,
        idleTtlSeconds,
        lastUsedAt: row.lastUsedAt ?? null,
      },
    });
  }
  return expired.length;
}

/** Deletes audit records older than `retentionDays` (0: keep forever); returns how many. */
export async function pruneAuditLog(
  storage: Pick<Storage, 'pruneAudit'>,
  retentionDays: number,
  now: number = Date.now(),
): Promise<number> {
  if (retentionDays <= 0) return 0;
  return storage.pruneAudit(now - retentionDays * DAY_MS);
}
