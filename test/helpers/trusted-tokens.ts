/**
 * Tokens a running test server accepts without an OAuth flow: a fresh test key is added to the
 * server's key store (as a rotated, still-published key, so the resource server trusts it but the
 * authorization server never signs with it), and each minted token gets its own live Grant row so
 * the per-request revocation check passes. For gate and fast-lane tests; end-to-end tests use the
 * real flow instead.
 */
import { mcpResourceUrl } from '../../src/config/config.ts';
import { type MintOptions, mint, type TestKeys, testKeys } from './access-tokens.ts';
import type { TestServer } from './server.ts';

export interface TrustedTokens {
  readonly keys: TestKeys;
  /** username → user id for the users that exist now; tests may add the ones they create. */
  readonly users: Record<string, string>;
  token(username: string, scope: string, extra?: Partial<MintOptions>): Promise<string>;
}

export async function trustTestKeys(srv: TestServer, kidPrefix = 'test'): Promise<TrustedTokens> {
  const keys = await testKeys(`${kidPrefix}-${Math.random().toString(36).slice(2)}`);
  const { storage } = srv.sekisho;
  await storage.addKey({
    kid: keys.kid,
    privateJwk: { ...keys.publicJwk },
    createdAt: Date.now(),
    rotatedAt: Date.now(),
  });
  const users: Record<string, string> = {};
  for (const u of await storage.listUsers()) users[u.username] = u.id;
  let n = 0;
  return {
    keys,
    users,
    async token(username, scope, extra = {}) {
      const gid = `grant-${username}-${++n}`;
      const sub = users[username]!;
      await storage.upsert('Grant', gid, { accountId: sub, clientId: 'client-1', kind: 'Grant' }, 3600);
      return mint(keys, { issuer: srv.url, audience: mcpResourceUrl(srv.config), sub, scope, gid, ...extra });
    },
  };
}
