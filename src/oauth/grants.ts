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
import { type Audit, NO_AUDIT } from '../audit/audit.ts';
import type { AuditActor, RevokedBy } from '../audit/events.ts';
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
  /** Scopes of a step-up the resource server noted under this grant within `STEP_UP_WINDOW_MS`. */
  readonly stepUp: readonly string[];
}

/** Every step-up scope noted under these grants (`pendingStepUp` over rows already listed). */
export function stepUpScopes(grants: readonly GrantInfo[]): string[] {
  return [...new Set(grants.flatMap((g) => g.stepUp))];
}

/** Who revoked a grant, and through what: the audit record's actor and `details.by`. */
export interface Revoker {
  readonly actor: AuditActor;
  readonly by: RevokedBy;
}

export interface GrantFilter {
  readonly accountId?: string;
  readonly clientId?: string;
}

export interface GrantService {
  listGrants(filter?: GrantFilter): Promise<GrantInfo[]>;
  /**
   * Deletes the grant and every token and code issued under it, and records who did it. Returns false
   * if it did not exist (nothing is recorded then).
   */
  revokeGrant(grantId: string, by: Revoker): Promise<boolean>;
  /** Records the user's latest "remember my decision" answer on a saved grant. */
  setRemembered(grantId: string, remember: boolean): Promise<void>;
  /** Notes that the resource server asked for a step-up to these scopes under the grant. */
  noteStepUp(grantId: string, scopes: readonly string[]): Promise<void>;
  /**
   * The scopes of a step-up noted under the grant within the last `STEP_UP_WINDOW_MS` and not yet
   * answered, marking it answered (it answers one refresh only); undefined when there is none.
   */
  takeStepUp(grantId: string): Promise<readonly string[] | undefined>;
  /**
   * Every scope of a step-up noted within the window under any grant of this user and client,
   * answered by a refresh or not: the next consent for that client offers them.
   */
  pendingStepUp(filter: Required<GrantFilter>): Promise<readonly string[]>;
  /** Drops the step-up notes of this user and client: a consent has answered them. */
  settleStepUp(filter: Required<GrantFilter>): Promise<void>;
}

/**
 * How long a step-up note waits for the client's refresh. Clients react at once (the v1 SDK refreshes
 * within the same call); a note older than this belongs to a user who gave up, and must not surprise
 * a later, ordinary refresh.
 */
export const STEP_UP_WINDOW_MS = 10 * 60 * 1000;

export function createGrantService(opts: {
  readonly storage: Storage;
  readonly resource: string;
  readonly now?: () => number;
  readonly audit?: Audit;
}): GrantService {
  const { storage, resource } = opts;
  const audit = opts.audit ?? NO_AUDIT;
  const now = opts.now ?? Date.now;

  /** Rewrites the sidecar of a grant row already read; `change` returns undefined to leave it. */
  async function rewriteSidecar(
    grantId: string,
    payload: Record<string, unknown>,
    change: (previous: GrantSidecar | undefined) => GrantSidecar | undefined,
  ): Promise<void> {
    const sidecar = change(payload[SIDECAR] as GrantSidecar | undefined);
    if (sidecar === undefined) return;
    const exp = typeof payload.exp === 'number' ? payload.exp : undefined;
    const ttl = exp === undefined ? undefined : Math.max(1, exp - Math.floor(now() / 1000));
    await storage.upsert('Grant', grantId, { ...payload, [SIDECAR]: sidecar }, ttl);
  }

  /** Reads the grant and rewrites its sidecar (nothing when the grant is gone). */
  async function updateSidecar(
    grantId: string,
    change: (previous: GrantSidecar | undefined) => GrantSidecar | undefined,
  ): Promise<void> {
    const payload = await storage.find('Grant', grantId);
    if (payload) await rewriteSidecar(grantId, payload, change);
  }

  async function listGrants(filter: GrantFilter = {}): Promise<GrantInfo[]> {
    const rows = await storage.list('Grant', filter);
    return rows
      .map((row) => toInfo(row.id, row.payload, resource, row, now()))
      .filter((g): g is GrantInfo => g !== undefined)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  return {
    listGrants,
    async revokeGrant(grantId, revoker) {
      const payload = await storage.find('Grant', grantId);
      await revokeGrantRows(storage, grantId);
      if (!payload) return false;
      await audit.record({
        type: 'grant.revoked',
        actor: revoker.actor,
        userId: typeof payload.accountId === 'string' ? payload.accountId : undefined,
        clientId: typeof payload.clientId === 'string' ? payload.clientId : undefined,
        grantId,
        details: { by: revoker.by },
      });
      return true;
    },
    async setRemembered(grantId, remember) {
      await updateSidecar(grantId, (previous) =>
        (previous?.remember === true) === remember ? undefined : { ...previous, remember },
      );
    },
    async noteStepUp(grantId, scopes) {
      await updateSidecar(grantId, (previous) => ({
        ...previous,
        stepUp: { scopes: [...scopes], at: now() },
      }));
    },
    async takeStepUp(grantId) {
      let pending: readonly string[] | undefined;
      await updateSidecar(grantId, (previous) => {
        const stepUp = previous?.stepUp;
        if (stepUp === undefined || stepUp.answered) return undefined;
        if (now() - stepUp.at > STEP_UP_WINDOW_MS) return { ...previous, stepUp: undefined };
        pending = stepUp.scopes;
        return { ...previous, stepUp: { ...stepUp, answered: true } };
      });
      return pending;
    },
    async pendingStepUp(filter) {
      return stepUpScopes(await listGrants(filter));
    },
    async settleStepUp(filter) {
      for (const row of await storage.list('Grant', filter)) {
        await rewriteSidecar(row.id, row.payload, (previous) =>
          previous?.stepUp === undefined ? undefined : { ...previous, stepUp: undefined },
        );
      }
    },
  };
}

function toInfo(
  id: string,
  payload: Record<string, unknown>,
  resource: string,
  row: { createdAt: number; expiresAt: number | undefined; lastUsedAt: number | undefined },
  nowMs: number,
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
    stepUp: sidecar?.stepUp && nowMs - sidecar.stepUp.at <= STEP_UP_WINDOW_MS ? sidecar.stepUp.scopes : [],
  };
}
