/**
 * Mints a real access token outside the browser flow — for the demo `quick_login` tool, tests and
 * benchmarks. It goes through oidc-provider's own models, so the result is exactly what the token
 * endpoint would issue: a grant for the built-in first-party client, then an RFC 9068 JWT for the
 * MCP resource (ES256, `aud` = the MCP URL, `gid` = that grant, short TTL). Revoking the grant
 * (account page, CLI, admin tool) invalidates the token like any other.
 *
 * Scopes are clamped to the user's role, as at the consent page; none asked → the basic set.
 */
import type Provider from 'oidc-provider';
import type { Audit } from '../audit/audit.ts';
import type { Config } from '../config/config.ts';
import { mcpResourceUrl } from '../config/config.ts';
import type { Identity } from '../identity/users.ts';
import { QUICK_LOGIN_CLIENT_ID } from './clients.ts';
import { mcpResourceServerInfo } from './provider.ts';
import type { ScopePolicy } from './scope-policy.ts';

export interface IssueAccessTokenInput {
  readonly accountId: string;
  /** Requested MCP scopes; clamped to the user's role. Empty or absent → the basic set. */
  readonly scopes?: readonly string[];
  /** A registered client to issue for; default the built-in `sekisho-quick-login`. */
  readonly clientId?: string;
}

export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds. */
  readonly expiresIn: number;
  readonly scope: string;
  readonly grantId: string;
}

export class IssueError extends Error {
  override readonly name = 'IssueError';
}

type ResourceServerCtor = new (identifier: string, info: ReturnType<typeof mcpResourceServerInfo>) => unknown;

export function createIssuer(deps: {
  readonly provider: Provider;
  readonly config: Config;
  readonly identity: Identity;
  readonly policy: ScopePolicy;
  readonly audit: Audit;
}): (input: IssueAccessTokenInput) => Promise<IssuedAccessToken> {
  const { provider, config, identity, policy } = deps;
  const resource = mcpResourceUrl(config);
  const ResourceServer = (provider as unknown as { ResourceServer: ResourceServerCtor }).ResourceServer;

  return async ({ accountId, scopes, clientId = QUICK_LOGIN_CLIENT_ID }) => {
    const user = await identity.findById(accountId);
    if (!user) throw new IssueError(`no such account: ${accountId}`);
    const client = await provider.Client.find(clientId);
    if (!client) throw new IssueError(`no such client: ${clientId}`);
    const asked = scopes && scopes.length > 0 ? scopes : policy.basicScopes;
    const granted = policy.allowedFor(
      user.role,
      asked.filter((s) => policy.resourceScopes.includes(s)),
    );
    if (granted.length === 0) throw new IssueError('none of the requested scopes is allowed for this user');
    const scope = granted.join(' ');

    const grant = new provider.Grant({ accountId: user.id, clientId });
    grant.addResourceScope(resource, scope);
    // No refresh token can come from this grant: it lives exactly as long as its one access token,
    // so admin_panel and the account page never show it "expiring" months after the token died.
    grant.exp = Math.floor(Date.now() / 1000) + config.accessTokenTtlSeconds;
    const grantId = await grant.save();
    await deps.audit.record({
      type: 'grant.issued',
      userId: user.id,
      clientId,
      grantId,
      details: { scopes: granted, via: 'in_process' },
    });

    const token = new provider.AccessToken({
      accountId: user.id,
      client,
      grantId,
      gty: 'sekisho_issue',
      scope,
    });
    token.resourceServer = new ResourceServer(resource, mcpResourceServerInfo(config, policy)) as never;
    const accessToken = await token.save();
    return { accessToken, tokenType: 'Bearer', expiresIn: token.expiration, scope, grantId };
  };
}
