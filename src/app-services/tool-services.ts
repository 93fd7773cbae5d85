/**
 * The real `ToolServices`: what the seed tools may ask of identity and the authorization server.
 * Tools import only the interface (tools/services.ts); this module sits above both sides and is wired
 * in the composition root, so the dependency arrows stay one-way (tools → interface ← app-services).
 *
 * Decisions recorded here:
 *  - quick_login works in demo mode only and only for the demo accounts (whose passwords are public).
 *    It is a shortcut around the authorization-code flow for the seed's MCP Inspector walkthrough, not a
 *    password grant for real accounts (OAuth 2.1 removed that grant). The token it mints carries every
 *    scope the user's role may hold (mcp:admin for admins): a pasted Bearer token cannot step up.
 *  - revoke_token takes a grant-id prefix of at least 4 characters and refuses an ambiguous one.
 */

import { scopesForRole } from '../access/scopes.ts';
import type { Audit } from '../audit/audit.ts';
import type { AuditActor } from '../audit/events.ts';
import type { User } from '../identity/users.ts';
import type {
  ActingCaller,
  GrantSummary,
  QuickLoginOutcome,
  ToolServices,
  UserSummary,
} from '../tools/services.ts';

export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scope: string;
}

export interface ToolServicesDeps {
  readonly demo: boolean;
  readonly endpoints: Readonly<Record<string, string>>;
  /** The seeded demo accounts with their public passwords (empty outside demo mode). */
  readonly demoUsers: readonly (User & { readonly password: string })[];
  readonly identity: {
    authenticate(
      username: string,
      password: string,
      ip: string,
    ): Promise<
      | { ok: true; user: User }
      | { ok: false; reason: 'invalid' }
      | { ok: false; reason: 'throttled' | 'busy'; retryAfterSeconds: number }
    >;
    findById(id: string): Promise<User | undefined>;
    listUsers(): Promise<User[]>;
  };
  readonly grants: {
    list(): Promise<readonly GrantSummary[]>;
    revoke(grantId: string, by: AuditActor): Promise<void>;
  };
  readonly audit: Audit;
  readonly countClients: () => Promise<number>;
  readonly issueAccessToken: (input: {
    accountId: string;
    scopes: readonly string[];
  }) => Promise<IssuedToken>;
  /** The address of the client making the current request (throttling key for quick_login). */
  readonly clientIp: () => string;
  /** The user id behind a valid, unrevoked access token for /mcp (the resource server's check). */
  readonly tokenUserId: (accessToken: string) => Promise<string | undefined>;
}

export const MIN_GRANT_PREFIX = 4;

export function createToolServices(deps: ToolServicesDeps): ToolServices {
  const demoNames = new Set(deps.demoUsers.map((u) => u.username));
  return {
    endpoints: () => deps.endpoints,

    demoUsers: () => (deps.demo ? deps.demoUsers.map((u) => ({ ...summary(u), password: u.password })) : []),

    async findUser(userId) {
      const user = await deps.identity.findById(userId);
      return user && summary(user);
    },

    async quickLogin(username, password): Promise<QuickLoginOutcome> {
      if (!deps.demo || !demoNames.has(username.trim().toLowerCase()))
        return { ok: false, reason: 'invalid' };
      // Throttled per client address, like the sign-in pages (never under one key for everyone).
      const result = await deps.identity.authenticate(username, password, deps.clientIp());
      if (!result.ok) return result;
      const issued = await deps.issueAccessToken({
        accountId: result.user.id,
        scopes: scopesForRole(result.user.role),
      });
      return { ok: true, ...issued, user: summary(result.user) };
    },

    async tokenUser(accessToken) {
      if (!deps.demo) return undefined;
      const userId = await deps.tokenUserId(accessToken);
      const user = userId === undefined ? undefined : await deps.identity.findById(userId);
      return user && summary(user);
    },

    listGrants: () => deps.grants.list(),

    async revokeGrants(prefix, by) {
      if (prefix.length < MIN_GRANT_PREFIX) return { revoked: [], ambiguous: true };
      const matches = (await deps.grants.list()).filter((g) => g.grantId.startsWith(prefix));
      if (matches.length > 1) return { revoked: [], ambiguous: true };
      const [match] = matches;
      if (!match) return { revoked: [], ambiguous: false };
      await deps.grants.revoke(match.grantId, actorOf(by));
      return { revoked: [match.grantId], ambiguous: false };
    },

    async recordAdminAction(by, action, outcome, details = {}) {
      await deps.audit.record({
        type: 'admin.action',
        outcome,
        actor: actorOf(by),
        clientId: by.clientId,
        details: { tool: 'admin_panel', action, ...details },
      });
    },

    async userStats() {
      const [users, grants, clients] = await Promise.all([
        deps.identity.listUsers(),
        deps.grants.list(),
        deps.countClients(),
      ]);
      return {
        users: users.length,
        admins: users.filter((u) => u.role === 'admin').length,
        activeGrants: grants.length,
        clients,
      };
    },
  };
}

/** An admin acting through a tool: a user (by id) or a machine client with the admin role. */
function actorOf(caller: ActingCaller): AuditActor {
  return caller.kind === 'user'
    ? { kind: 'admin', id: caller.userId, name: caller.username }
    : { kind: 'client', id: caller.clientId, name: caller.name };
}

function summary(user: User): UserSummary {
  return { id: user.id, username: user.username, name: user.name, email: user.email, role: user.role };
}
