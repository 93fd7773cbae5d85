/**
 * Grants as the rest of Sekisho sees them: one authorization of one client by one user, with the
 * scopes it carries. oidc-provider stores a grant as a `Grant` row; every token and code issued
 * under it carries its id (`grantId`, and `gid` in our access tokens), so revoking a grant is one
 * storage step that takes all of them (`storage.revokeByGrantId`) plus the grant row itself — and
 * the resource server, which checks the grant on every request, refuses its access tokens at once.
 *
 * "Last used" is the last time a token was issued under the grant (code exchange or refresh), to the
 * minute (use-recorder.ts); with short-lived access tokens a client in use refreshes often, so this
 * tracks real use closely.
 */
import type { Storage } from '../storage/types.ts';
import { type GrantSidecar, SIDECAR } from './adapter.ts';
import { grantedScopes, revokeGrantRows } from './grant-rows.ts';

export interface GrantInfo {
  readonly grantId: string;
  readonly accountId: string;
  readonly clientId: string;
  /** MCP scopes for the resource (granted minus rejected), then OpenID scopes. */
  readonly scopes: readonly string[];
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
  readonly lastUsedAt: number | undefined;
  /** The user ticked "remember my decision". */
  readonly remembered: boolean;
}

export interface GrantFilter {
  readonly accountId?: string;
  readonly clientId?: string;
}

export interface GrantService {
  listGrants(filter?: GrantFilter): Promise<GrantInfo[]>;
  /** Deletes the grant and every token and code issued under it. Returns false if it did not exist. */
  revokeGrant(grantId: string): Promise<boolean>;
  /** Records the user's latest "remember my decision" answer on a saved grant. */
  setRemembered(grantId: string, remember: boolean): Promise<void>;
}

export function createGrantService(opts: {
  readonly storage: Storage;
  readonly resource: string;
  readonly now?: () => number;
}): GrantService {
  const { storage, resource } = opts;
  const now = opts.now ?? Date.now;
  return {
    async listGrants(filter = {}) {
      const rows = await storage.list('Grant', filter);
      return rows
        .map((row) => toInfo(row.id, row.payload, resource, row))
        .filter((g): g is GrantInfo => g !== undefined)
        .sort((a, b) => b.createdAt - a.createdAt);
    },
    async revokeGrant(grantId) {
      const existed = (await storage.find('Grant', grantId)) !== undefined;
      await revokeGrantRows(storage, grantId);
      return existed;
    },
    async setRemembered(grantId, remember) {
      const payload = await storage.find('Grant', grantId);
      if (!payload) return;
      const previous = payload[SIDECAR] as GrantSidecar | undefined;
      if ((previous?.remember === true) === remember) return;
      const sidecar: GrantSidecar = { ...previous, remember };
      const exp = typeof payload.exp === 'number' ? payload.exp : undefined;
      const ttl = exp === undefined ? undefined : Math.max(1, exp - Math.floor(now() / 1000));
      await storage.upsert('Grant', grantId, { ...payload, [SIDECAR]: sidecar }, ttl);
    },
  };
}

function toInfo(
  id: string,
  payload: Record<string, unknown>,
  resource: string,
  row: { createdAt: number; expiresAt: number | undefined; lastUsedAt: number | undefined },
): GrantInfo | undefined {
  if (typeof payload.accountId !== 'string' || typeof payload.clientId !== 'string') return undefined;
  const granted = grantedScopes(payload);
  const mcp = granted.byResource.get(resource) ?? [];
  const openid = granted.openid;
  const sidecar = payload[SIDECAR] as GrantSidecar | undefined;
  return {
    grantId: id,
    accountId: payload.accountId,
    clientId: payload.clientId,
    scopes: [...mcp, ...openid],
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    remembered: sidecar?.remember === true,
  };
}
