/**
 * Sign-in through upstream OpenID providers, assembled: one openid-client relying party per
 * configured provider (upstream-client.ts), the pending round trips (round-trip.ts), and the
 * just-in-time users with their role rules (provisioning.ts, role-mapping.ts). The HTTP side — the
 * "Sign in with …" buttons and the callback — lives with the other pages in oauth/interactions/.
 * Undefined when no provider is configured.
 */
import type { Audit } from '../audit/audit.ts';
import type { Config } from '../config/config.ts';
import { HttpError } from '../http/errors.ts';
import type { Identity } from '../identity/users.ts';
import type { PageCookies } from '../oauth/page-cookies.ts';
import type { Logger } from '../observability/logger.ts';
import type { Storage } from '../storage/types.ts';
import { createProvisioning, type Provisioning } from './provisioning.ts';
import { createRoundTrips, type RoundTrips } from './round-trip.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';

/** Where every provider sends the browser back (register `<base>` + this at the provider). */
export const UPSTREAM_CALLBACK_PATH = '/upstream/callback';

export interface Federation {
  readonly clients: ReadonlyMap<string, UpstreamClient>;
  readonly roundTrips: RoundTrips;
  readonly provisioning: Provisioning;
  /** The absolute redirect URI registered at every provider. */
  readonly callbackUrl: string;
  /** The client for a provider id; 404 when there is none. */
  client(id: string): UpstreamClient;
}

export function upstreamCallbackUrl(config: Pick<Config, 'baseUrl'>): string {
  return `${config.baseUrl}${UPSTREAM_CALLBACK_PATH}`;
}

export function createFederation(deps: {
  config: Config;
  storage: Storage;
  identity: Identity;
  logger: Logger;
  cookies: PageCookies;
  audit?: Audit;
}): Federation | undefined {
  const { config, storage, identity, logger } = deps;
  if (config.upstreams.length === 0) return undefined;
  const clients = new Map(config.upstreams.map((p) => [p.id, createUpstreamClient(p, logger)]));
  // Discovery ahead of the first sign-in, so the login page knows each authorization endpoint.
  for (const client of clients.values()) void client.warmUp();
  return {
    clients,
    roundTrips: createRoundTrips(storage, deps.cookies),
    provisioning: createProvisioning({
      storage,
      identity,
      providers: config.upstreams,
      logger,
      ...(deps.audit ? { audit: deps.audit } : {}),
    }),
    callbackUrl: upstreamCallbackUrl(config),
    client(id) {
      const client = clients.get(id);
      if (!client) throw new HttpError(404, 'invalid_request', 'No such identity provider.');
      return client;
    },
  };
}
