/**
 * Adapts the authorization server, the resource server, identity and storage to the shapes
 * `createToolServices` takes, so the composition root wires tools with one call and the tool-facing
 * view of a grant (user name, client name, times in seconds) is built in one place.
 */
import type { Audit } from '../audit/audit.ts';
import type { Identity, User } from '../identity/users.ts';
import type { AuthorizationServer } from '../oauth/index.ts';
import { currentClientIp } from '../observability/request-context.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import type { Storage } from '../storage/types.ts';
import type { GrantSummary, ToolServices } from '../tools/services.ts';
import { createToolServices } from './tool-services.ts';

export interface ToolServiceParts {
  readonly demo: boolean;
  readonly demoUsers: readonly (User & { readonly password: string })[];
  readonly identity: Identity;
  readonly storage: Pick<Storage, 'find' | 'list'>;
  readonly authorizationServer: Pick<
    AuthorizationServer,
    'endpoints' | 'issueAccessToken' | 'listGrants' | 'revokeGrant'
  >;
  readonly resource: Pick<ResourceServer, 'authenticate' | 'resourceUrl' | 'metadataUrl'>;
  readonly audit: Audit;
}

/** Resource-server-only mode: the external authorization server, as tools may describe it. */
export interface ExternalToolServiceParts {
  readonly issuer: string;
  /** Its public endpoints by name (from its metadata), for `oauth_info`. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly resource: Pick<ResourceServer, 'resourceUrl' | 'metadataUrl'>;
  readonly identity: ToolServiceParts['identity'];
  readonly audit: Audit;
}

/**
 * Tools in resource-server-only mode: no token minting, no grants (sessions live at the external
 * server — `admin_panel` says so rather than listing nothing), profiles from the token itself.
 */
export function externalToolServices(parts: ExternalToolServiceParts): ToolServices {
  const managedElsewhere = () =>
    Promise.reject(new Error(`sessions are managed by ${parts.issuer}, not by this server`));
  const services = createToolServices({
    demo: false,
    endpoints: {
      ...parts.endpoints,
      protectedResourceMetadata: parts.resource.metadataUrl,
      resource: parts.resource.resourceUrl,
    },
    demoUsers: [],
    identity: parts.identity,
    grants: { list: managedElsewhere, revoke: managedElsewhere },
    countClients: async () => 0,
    issueAccessToken: managedElsewhere,
    clientIp: () => currentClientIp() ?? 'unknown',
    tokenUserId: async () => undefined,
    audit: parts.audit,
  });
  return { ...services, externalIssuer: parts.issuer };
}

export function toolServicesFrom(parts: ToolServiceParts): ToolServices {
  const { identity, storage, authorizationServer: as } = parts;
  // The account page and the discovery document are for browsers and clients, not for this listing.
  const { account: _account, openidConfiguration: _oidc, ...oauth } = as.endpoints;
  return createToolServices({
    demo: parts.demo,
    endpoints: {
      ...oauth,
      protectedResourceMetadata: parts.resource.metadataUrl,
      resource: parts.resource.resourceUrl,
    },
    demoUsers: parts.demoUsers,
    identity,
    grants: {
      async list() {
        const [grants, users] = await Promise.all([as.listGrants(), identity.listUsers()]);
        const names = new Map(users.map((u) => [u.id, u.username]));
        const clientNames = new Map<string, string | undefined>();
        for (const clientId of new Set(grants.map((g) => g.clientId))) {
          const client = await storage.find('Client', clientId);
          clientNames.set(clientId, typeof client?.client_name === 'string' ? client.client_name : undefined);
        }
        return grants.map(
          (g): GrantSummary => ({
            grantId: g.grantId,
            userId: g.accountId,
            username: names.get(g.accountId) ?? '(deleted user)',
            clientId: g.clientId,
            clientName: clientNames.get(g.clientId),
            scopes: g.scopes,
            createdAt: Math.floor(g.createdAt / 1000),
            expiresAt: g.expiresAt === undefined ? undefined : Math.floor(g.expiresAt / 1000),
          }),
        );
      },
      async revoke(grantId, actor) {
        await as.revokeGrant(grantId, { actor, by: 'admin_tool' });
      },
    },
    audit: parts.audit,
    countClients: async () => (await storage.list('Client')).length,
    async issueAccessToken({ accountId, scopes }) {
      const issued = await as.issueAccessToken({ accountId, scopes });
      return { accessToken: issued.accessToken, expiresIn: issued.expiresIn, scope: issued.scope };
    },
    clientIp: () => currentClientIp() ?? 'unknown',
    tokenUserId: async (token) => {
      const caller = await parts.resource.authenticate(token);
      return caller?.kind === 'user' ? caller.userId : undefined;
    },
  });
}
