/** `sekisho clients add|list|remove`, `grants list|revoke`, `keys list|rotate`. */
import { readFileSync } from 'node:fs';
import { requireRole } from '../../identity/validation.ts';
import { effectiveOverlapSeconds, rotateSigningKeys } from '../../oauth/keys.ts';
import {
  addOperatorClient,
  type OperatorAuthMethod,
  OperatorClientError,
} from '../../oauth/operator-clients.ts';
import { listClients, listGrants, removeClient, revokeGrant } from '../../oauth/operator-queries.ts';
import type { Command } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { printJson, printTable, when } from '../output.ts';

export const clientsAdd: Command = {
  name: 'clients add',
  needsAuthorizationServer: true,
  usage:
    'clients add <name> (--machine --role admin|user | --enterprise) [--auth client_secret_basic|private_key_jwt] [--jwks <file> | --jwks-uri <https url>] [--client-id <id>]',
  summary:
    'Register a confidential client: --machine (client credentials: a service with the given role), --enterprise (jwt-bearer with enterprise ID-JAG assertions), or both',
  args: ['name'],
  options: {
    machine: { type: 'boolean' },
    enterprise: { type: 'boolean' },
    role: { type: 'string' },
    auth: { type: 'string' },
    jwks: { type: 'string' },
    'jwks-uri': { type: 'string' },
    'client-id': { type: 'string' },
  },
  mayCreateDatabase: true,
  async run(ctx) {
    const o = ctx.options;
    if (o.machine !== true && o.enterprise !== true) {
      throw new UsageError('say what the client is for: --machine --role admin|user, --enterprise, or both');
    }
    if (o.machine === true && typeof o.role !== 'string')
      throw new UsageError('--machine needs --role admin|user');
    if (o.machine !== true && o.role !== undefined) throw new UsageError('--role goes with --machine');
    const auth = (typeof o.auth === 'string' ? o.auth : 'client_secret_basic') as OperatorAuthMethod;
    if (auth !== 'client_secret_basic' && auth !== 'private_key_jwt') {
      throw new UsageError('--auth must be client_secret_basic or private_key_jwt');
    }
    let jwks: { keys: Record<string, unknown>[] } | undefined;
    if (typeof o.jwks === 'string') {
      try {
        jwks = JSON.parse(readFileSync(o.jwks, 'utf8'));
      } catch (error) {
        throw new CliError(`cannot read the JWKS file: ${(error as Error).message}`);
      }
      if (!Array.isArray(jwks?.keys)) throw new CliError('the JWKS file must be {"keys": [...]}');
    }
    try {
      const client = await addOperatorClient(ctx.storage, {
        name: ctx.positionals[0]!,
        serviceRole: o.machine === true ? requireRole(String(o.role)) : undefined,
        enterprise: o.enterprise === true,
        auth,
        jwks,
        jwksUri: typeof o['jwks-uri'] === 'string' ? o['jwks-uri'] : undefined,
        clientId: typeof o['client-id'] === 'string' ? o['client-id'] : undefined,
      });
      await ctx.audit.record({
        type: 'client.registered',
        clientId: client.clientId,
        // The same kinds as the console shows (oauth/operator-queries.ts clientKind).
        details: {
          kind: o.machine === true ? 'machine' : 'operator',
          name: ctx.positionals[0],
          role: o.machine === true ? String(o.role) : undefined,
          enterprise: o.enterprise === true,
          auth,
        },
      });
      if (ctx.options.json) return printJson(ctx.io, client);
      ctx.io.out(`client_id      ${client.clientId}`);
      if (client.clientSecret) {
        ctx.io.out(`client_secret  ${client.clientSecret}`);
        ctx.io.out('The secret is shown only now; Sekisho keeps only its digest.');
      }
      ctx.io.out(`grant_types    ${client.grantTypes.join(' ')}`);
    } catch (error) {
      if (error instanceof OperatorClientError) throw new UsageError(error.message);
      throw error;
    }
  },
};

export const clientsList: Command = {
  name: 'clients list',
  needsAuthorizationServer: true,
  usage: 'clients list [--json]',
  summary: 'List registered OAuth clients',
  args: [],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const clients = await listClients(ctx.storage);
    if (ctx.options.json) return printJson(ctx.io, clients);
    printTable(
      ctx.io,
      ['CLIENT_ID', 'NAME', 'AUTH', 'REDIRECT_URIS', 'CREATED', 'LAST_USED', 'EXPIRES'],
      clients.map((c) => [
        c.clientId,
        c.clientName ?? '-',
        c.authMethod ?? '-',
        c.redirectUris.join(' ') || '-',
        when(c.createdAt),
        when(c.lastUsedAt),
        when(c.expiresAt),
      ]),
      'no clients',
    );
  },
};

export const clientsRemove: Command = {
  name: 'clients remove',
  needsAuthorizationServer: true,
  usage: 'clients remove <client_id>',
  summary: 'Delete a client and revoke its grants and tokens',
  args: ['client_id'],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const clientId = ctx.positionals[0]!;
    const revoked = await removeClient(ctx.storage, clientId, ctx.audit, 'cli');
    if (revoked === undefined) throw new CliError(`no such client: ${clientId}`);
    ctx.io.out(`removed client ${clientId}; ${revoked} grant(s) revoked`);
  },
};

export const grantsList: Command = {
  name: 'grants list',
  needsAuthorizationServer: true,
  usage: 'grants list [--user <username>] [--client <client_id>] [--json]',
  summary: 'List authorizations users have given to clients',
  args: [],
  options: { user: { type: 'string' }, client: { type: 'string' } },
  mayCreateDatabase: false,
  async run(ctx) {
    const filter: { accountId?: string; clientId?: string } = {};
    if (typeof ctx.options.user === 'string') {
      const user = await ctx.identity.findByUsername(ctx.options.user);
      if (!user) throw new CliError(`no such user: ${ctx.options.user}`);
      filter.accountId = user.id;
    }
    if (typeof ctx.options.client === 'string') filter.clientId = ctx.options.client;
    const grants = await listGrants(ctx.storage, filter);
    if (ctx.options.json) return printJson(ctx.io, grants);
    printTable(
      ctx.io,
      ['GRANT_ID', 'USER', 'CLIENT', 'SCOPES', 'CREATED', 'EXPIRES'],
      grants.map((g) => [
        g.grantId,
        g.username ?? g.accountId,
        g.clientName ? `${g.clientName} (${g.clientId})` : g.clientId,
        g.scopes.join(' ') || '-',
        when(g.createdAt),
        when(g.expiresAt),
      ]),
      'no grants',
    );
  },
};

export const grantsRevoke: Command = {
  name: 'grants revoke',
  needsAuthorizationServer: true,
  usage: 'grants revoke <grant_id>',
  summary: 'Revoke a grant: its refresh and access tokens stop working',
  args: ['grant_id'],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const grantId = ctx.positionals[0]!;
    if (!(await revokeGrant(ctx.storage, grantId, ctx.audit, 'cli')))
      throw new CliError(`no such grant: ${grantId}`);
    ctx.io.out(`revoked grant ${grantId}`);
  },
};

export const keysList: Command = {
  name: 'keys list',
  needsAuthorizationServer: true,
  usage: 'keys list [--json]',
  summary: 'List token signing keys (public information only)',
  args: [],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const keys = (await ctx.storage.listKeys()).map((k) => ({
      kid: k.kid,
      alg: typeof k.privateJwk.alg === 'string' ? k.privateJwk.alg : undefined,
      status: k.rotatedAt === undefined ? 'active' : 'rotated',
      createdAt: k.createdAt,
      rotatedAt: k.rotatedAt,
    }));
    if (ctx.options.json) return printJson(ctx.io, keys);
    printTable(
      ctx.io,
      ['KID', 'ALG', 'STATUS', 'CREATED', 'ROTATED'],
      keys.map((k) => [k.kid, k.alg ?? '-', k.status, when(k.createdAt), when(k.rotatedAt)]),
      'no keys yet (the server creates one on first start)',
    );
  },
};

export const keysRotate: Command = {
  name: 'keys rotate',
  needsAuthorizationServer: true,
  usage: 'keys rotate',
  summary: 'Make a new signing key; the old one stays published for the overlap',
  args: [],
  options: {},
  mayCreateDatabase: true,
  async run(ctx) {
    const overlap = effectiveOverlapSeconds(ctx.config);
    const result = await rotateSigningKeys(ctx.storage, overlap, ctx.audit);
    if (ctx.options.json) return printJson(ctx.io, { ...result, overlapSeconds: overlap });
    ctx.io.out(`new signing key ${result.kid}`);
    if (result.previousKid) ctx.io.out(`previous key ${result.previousKid} stays published for ${overlap}s`);
    ctx.io.out(
      ctx.config.redisUrl
        ? 'running servers sign with it now (announced on Redis)'
        : `running servers sign with it within ${ctx.config.keyCheckSeconds}s (SEKISHO_KEY_CHECK_SECONDS); no restart needed`,
    );
  },
};
