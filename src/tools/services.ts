/**
 * What tools may ask of the rest of the server. The MCP layer hands an implementation of this to
 * every tool call; tools never import storage or the authorization server directly, which keeps them
 * testable and keeps the dependency arrows pointing one way (tools → services interface).
 */
import type { Caller } from '../access/policy.ts';
import type { Role } from '../access/scopes.ts';

/** A signed-in caller acting through an admin tool: who the audit log names. */
export type ActingCaller = Exclude<Caller, { kind: 'anonymous' }>;

export interface UserSummary {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
}

export interface GrantSummary {
  readonly grantId: string;
  readonly userId: string;
  readonly username: string;
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number | undefined;
}

export interface QuickLoginResult {
  readonly ok: true;
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scope: string;
  readonly user: UserSummary;
}

/** A refused quick login: wrong credentials, too many attempts from this address, or hashing at capacity. */
export type QuickLoginOutcome =
  | QuickLoginResult
  | { readonly ok: false; readonly reason: 'invalid' }
  | { readonly ok: false; readonly reason: 'throttled' | 'busy'; readonly retryAfterSeconds: number };

export interface ToolServices {
  /** This server's public OAuth and MCP endpoints by name (issuer, token, …, resource), for oauth_info. */
  endpoints(): Readonly<Record<string, string>>;
  /** Demo users with their demo passwords (demo mode only; undefined otherwise). */
  demoUsers(): readonly (UserSummary & { readonly password: string })[];
  /** Look up a user by id (for profile tools). */
  findUser(userId: string): Promise<UserSummary | undefined>;
  /** Verify a demo user's password and mint a real audience-bound access token (demo mode only). */
  quickLogin(username: string, password: string): Promise<QuickLoginOutcome>;
  /**
   * The user a still-valid access token belongs to (the seed's `auth/token_login`, demo mode only);
   * undefined for an invalid, expired or revoked token.
   */
  tokenUser(accessToken: string): Promise<UserSummary | undefined>;
  listGrants(): Promise<readonly GrantSummary[]>;
  /**
   * Revoke every grant whose id starts with `prefix`, recorded as done by `by`; returns the revoked
   * ids. Refuses ambiguous prefixes.
   */
  revokeGrants(prefix: string, by: ActingCaller): Promise<{ revoked: readonly string[]; ambiguous: boolean }>;
  /** Records an admin tool action in the audit log (what was asked, by whom, and how it ended). */
  recordAdminAction(
    by: ActingCaller,
    action: string,
    outcome: 'success' | 'failure',
    details?: Readonly<Record<string, string | number | boolean | undefined>>,
  ): Promise<void>;
  userStats(): Promise<{ users: number; admins: number; activeGrants: number; clients: number }>;
  /**
   * Resource-server-only mode: the external authorization server that signs users in and keeps
   * their sessions (grants). Undefined when Sekisho is its own authorization server.
   */
  readonly externalIssuer?: string;
}

/**
 * Asking the person at the client (MCP elicitation), when their client can be asked: in a 2025-era
 * session by a server-to-client `elicitation/create`, in 2026-07-28 by an `input_required` result the
 * client answers by retrying the call. A tool must ask before it acts: on some paths asking means the
 * call is answered now and run again with the answer.
 */
export interface ToolInteraction {
  /**
   * A yes/no question. `unsupported`: this client cannot be asked (no elicitation capability, or
   * stateless 2025-era serving) — the tool then does what it did before asking existed.
   */
  confirm(question: ConfirmQuestion): Promise<'confirmed' | 'declined' | 'unsupported'>;
}

export interface ConfirmQuestion {
  /** Names the question among the call's input requests (2026-07-28); stable for a given question. */
  readonly key: string;
  readonly message: string;
  /** The label of the yes/no field the client shows. */
  readonly label: string;
}

/** For paths that cannot ask anyone (tests, batch jobs). */
export const CANNOT_ASK: ToolInteraction = { confirm: async () => 'unsupported' };
