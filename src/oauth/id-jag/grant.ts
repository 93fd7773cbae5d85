/**
 * The RFC 7523 jwt-bearer grant carrying an enterprise ID-JAG (MCP ext-auth "Enterprise-Managed
 * Authorization", SEP-990), registered on oidc-provider with `registerGrantType`: oidc-provider runs
 * the token endpoint (body parsing, client authentication — `client_secret_basic` or
 * `private_key_jwt` —, the client's allowed grant types, duplicate parameters, error answers, CORS);
 * this handler does what is particular to the grant:
 *
 *  1. the assertion (verify.ts) and the `resource` parameter, which when sent must be the MCP URL;
 *  2. scopes = requested ∩ asserted ∩ what the user's role allows (`scope-policy.ts`): asking for a
 *     scope the IdP did not assert is `invalid_scope` (the IdP decides, the client cannot widen it);
 *     the role cuts silently as on the consent page; nothing left → `invalid_scope`; no scope named
 *     anywhere → the registry's basic set;
 *  3. the `jti` is used up in the replay cache (shared across instances on Redis) until the
 *     assertion expires — only now, so a refused request never burns an assertion, and before the
 *     user is provisioned, so a replay never creates anything;
 *  4. the local user (subjects.ts);
 *  5. a grant for (user, client) that lives as long as its one access token, and an RFC 9068 JWT for
 *     the MCP resource (`aud` = /mcp, `gid` = that grant), DPoP-bound when the request carried a
 *     proof. No refresh token: when it expires the client asks its IdP for a new ID-JAG, so the
 *     enterprise's policy is consulted again (the ID-JAG draft and ext-auth both say so). The grant
 *     shows on the account page and in `sekisho grants list`, and revoking it kills the token.
 */
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { applyDpopBinding } from 'oidc-provider/lib/helpers/grant_common.js';
import { checkDpopRequired } from 'oidc-provider/lib/helpers/sender_constraints.js';
import validateDpop from 'oidc-provider/lib/helpers/validate_dpop.js';
import type { Audit } from '../../audit/audit.ts';
import type { Config } from '../../config/config.ts';
import { mcpResourceUrl } from '../../config/config.ts';
import type { Identity } from '../../identity/users.ts';
import { hashTokenId } from '../../storage/sidecar.ts';
import type { ExternalIdentityStore, ReplayCache } from '../../storage/types.ts';
import { JWT_BEARER_GRANT } from '../grant-types.ts';
import { type ScopePolicy, split } from '../scope-policy.ts';
import { userForAssertion } from './subjects.ts';
import { CLOCK_TOLERANCE_SECONDS, createIdJagVerifier, IdJagError, type IdJagErrorCode } from './verify.ts';

export interface IdJagGrantDeps {
  readonly config: Config;
  readonly identity: Pick<Identity, 'findById' | 'addUser'>;
  readonly links: ExternalIdentityStore;
  readonly policy: Pick<ScopePolicy, 'resourceScopes' | 'basicScopes' | 'allowedFor'>;
  readonly replay: ReplayCache;
  /** The MCP resource server definition every access token for /mcp is issued under (provider.ts). */
  readonly resourceServerInfo: object;
  /** Every issued grant and every refused assertion is recorded (a replay is an attack signal). */
  readonly audit: Audit;
  readonly now?: () => number;
}

/** Grant-type-specific parameters oidc-provider lets through to the handler. */
export const JWT_BEARER_PARAMETERS = ['assertion', 'scope', 'resource'] as const;

type ResourceServerCtor = new (identifier: string, info: object) => unknown;

export function registerIdJagGrant(provider: Provider, deps: IdJagGrantDeps): void {
  const { config, policy } = deps;
  const resource = mcpResourceUrl(config);
  const now = deps.now ?? Date.now;
  const verifier = createIdJagVerifier({
    issuer: config.baseUrl,
    resource,
    idps: config.enterpriseIdps,
    now,
  });
  const ResourceServer = (provider as unknown as { ResourceServer: ResourceServerCtor }).ResourceServer;

  const handler = async (ctx: KoaContextWithOIDC) => {
    const params = ctx.oidc.params as { assertion?: unknown; scope?: string; resource?: unknown };
    const client = ctx.oidc.client!;
    try {
      if (config.enterpriseIdps.length === 0) {
        throw new IdJagError('unauthorized_client', 'this server trusts no enterprise identity provider');
      }
      if (params.resource !== undefined && params.resource !== resource) {
        throw new IdJagError('invalid_target', `unknown resource; this server protects ${resource} only`);
      }
      const dPoP = await validateDpop(provider, ctx);
      const jag = await verifier.verify(params.assertion, client.clientId);
      const asked = split(params.scope);
      if (jag.scopes) {
        const beyond = asked.filter((s) => !jag.scopes!.includes(s));
        if (beyond.length > 0) {
          throw new errors.InvalidScope(
            `the identity provider did not grant ${beyond.join(' ')}`,
            beyond.join(' '),
          );
        }
      }
      const named = (asked.length > 0 ? asked : (jag.scopes ?? [])).filter((s) =>
        policy.resourceScopes.includes(s),
      );
      const nowSeconds = Math.floor(now() / 1000);
      const ttl = Math.max(1, jag.expiresAt - nowSeconds + CLOCK_TOLERANCE_SECONDS);
      if (!(await deps.replay.remember(`id-jag:${hashTokenId(`${jag.idp.issuer}\n${jag.jti}`)}`, ttl))) {
        throw new IdJagError('invalid_grant', 'the assertion was already used (replayed jti)');
      }
      const user = await userForAssertion(deps, jag);
      const wanted = named.length > 0 || jag.scopes ? named : policy.basicScopes;
      const granted = policy.allowedFor(user.role, wanted);
      if (granted.length === 0) {
        throw new errors.InvalidScope(
          'none of the requested and asserted scopes is allowed for this user’s role',
          wanted.join(' '),
        );
      }
      const scope = granted.join(' ');

      const grant = new provider.Grant({ accountId: user.id, clientId: client.clientId });
      grant.addResourceScope(resource, scope);
      grant.exp = nowSeconds + config.accessTokenTtlSeconds;
      const grantId = await grant.save();
      ctx.oidc.entity('Grant', grant);
      await deps.audit.record({
        type: 'grant.issued',
        userId: user.id,
        clientId: client.clientId,
        grantId,
        details: { scopes: granted, via: 'id_jag', idp: jag.idp.issuer },
      });

      const token = new provider.AccessToken({
        accountId: user.id,
        client,
        grantId,
        gty: 'id_jag',
        scope,
      });
      token.resourceServer = new ResourceServer(resource, deps.resourceServerInfo) as never;
      await applyDpopBinding(provider, ctx, dPoP, token);
      checkDpopRequired(provider, ctx, dPoP);
      ctx.oidc.entity('AccessToken', token);
      const accessToken = await token.save();
      ctx.body = {
        access_token: accessToken,
        token_type: token.tokenType,
        expires_in: token.expiration,
        scope,
      };
    } catch (error) {
      const refusal = error instanceof IdJagError ? toOAuthError(error.code, error.message) : error;
      const oauth = refusal as { error?: unknown; error_description?: unknown; expose?: boolean };
      if (oauth.expose && typeof oauth.error === 'string') {
        await deps.audit.record({
          type: 'grant.issued',
          outcome: 'failure',
          clientId: client.clientId,
          details: { via: 'id_jag', error: oauth.error, reason: String(oauth.error_description ?? '') },
        });
      }
      throw refusal;
    }
  };

  provider.registerGrantType(JWT_BEARER_GRANT, handler as never, [...JWT_BEARER_PARAMETERS]);
}

function toOAuthError(code: IdJagErrorCode, description: string): Error {
  switch (code) {
    case 'invalid_request':
      return new errors.InvalidRequest(description);
    case 'unauthorized_client':
      return new errors.UnauthorizedClient(description);
    case 'invalid_target':
      return new errors.InvalidTarget(description);
    default:
      // oidc-provider's InvalidGrant always says "grant request is invalid"; say which rule failed.
      return Object.assign(new errors.InvalidGrant(), { error_description: description });
  }
}
