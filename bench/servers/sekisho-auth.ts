/**
 * How the benchmark obtains real credentials from a running Sekisho, outside the timed section:
 *  - access tokens from the authorization server's `issueAccessToken` (oidc-provider's own models:
 *    a grant per token, an RFC 9068 JWT for the MCP resource — what the token endpoint issues);
 *  - authorization codes and refresh tokens from `oauth-credentials.ts` (DCR client, codes through the
 *    provider's models, refresh tokens from the real token endpoint) — shared with the plain
 *    oidc-provider reference, so both token endpoints are fed alike;
 *  - the login's password check (scrypt, the identity module's own parameters), timed on its own.
 */
import { mcpResourceUrl } from '../../src/config/config.ts';
import { hashPassword, verifyPassword } from '../../src/identity/password.ts';
import type { Sekisho } from '../../src/server.ts';
import type { CommandHandler } from '../lib/ipc.ts';
import { BENCH_SCOPES, BENCH_USER } from './bench-caller.ts';
import { oauthCredentials } from './oauth-credentials.ts';

export type { CodeSupply, RefreshSupply } from './oauth-credentials.ts';

export interface AuthCommands {
  readonly available: boolean;
  readonly note: string;
  readonly commands: Record<string, CommandHandler>;
}

export async function authCommands(sekisho: Sekisho): Promise<AuthCommands> {
  const as = sekisho.authorizationServer;
  if (!as) return { available: false, note: 'the built-in authorization server is off', commands: {} };
  const user = await sekisho.identity.findByUsername(BENCH_USER);
  if (!user) {
    return { available: false, note: `no "${BENCH_USER}" user (demo mode off?)`, commands: {} };
  }
  const resource = mcpResourceUrl(sekisho.config);
  const scope = BENCH_SCOPES.join(' ');
  const credentials = oauthCredentials({
    provider: as.provider,
    url: sekisho.url,
    accountId: user.id,
    resource,
    scope,
  });

  return {
    available: true,
    note: `real access tokens for "${BENCH_USER}" (${scope}) from the authorization server`,
    commands: {
      'access-tokens': async (args) => {
        const { count } = args as { count: number };
        const tokens: string[] = [];
        for (let i = 0; i < count; i++) {
          const issued = await as.issueAccessToken({ accountId: user.id, scopes: [...BENCH_SCOPES] });
          tokens.push(issued.accessToken);
        }
        return tokens;
      },
      'auth-codes': (args) => credentials.codes((args as { count: number }).count),
      'refresh-tokens': (args) => credentials.refreshTokens((args as { count: number }).count),
      /** `count` sign-in accounts `storm-<i>` (password `storm-password-<i>`) for the login-storm scenario. */
      'storm-users': async (args) => {
        const { count } = args as { count: number };
        const users: { username: string; password: string }[] = [];
        for (let i = 0; i < count; i++) {
          const username = `storm-${i}`;
          const password = `storm-password-${i}`;
          if (!(await sekisho.identity.findByUsername(username))) {
            await sekisho.identity.addUser({ username, password });
          }
          users.push({ username, password });
        }
        return users;
      },
      /** scrypt as the login does it, `concurrency` at a time for `seconds`: logins/s. */
      'login-bench': async (args) => {
        const { seconds, concurrency } = args as { seconds: number; concurrency: number };
        const password = 'correct horse battery staple';
        const stored = await hashPassword(password);
        let done = 0;
        const deadline = Date.now() + seconds * 1000;
        const started = process.hrtime.bigint();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (Date.now() < deadline) {
              if (!(await verifyPassword(password, stored))) throw new Error('verify failed');
              done++;
            }
          }),
        );
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        return { logins: done, seconds: elapsed, concurrency };
      },
    },
  };
}
