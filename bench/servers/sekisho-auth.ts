/**
 * How the benchmark obtains real credentials from a running Sekisho, outside the timed section:
 *  - access tokens from the authorization server's `issueAccessToken` (oidc-provider's own models:
 *    a grant per token, an RFC 9068 JWT for the MCP resource — what the token endpoint issues);
 *  - a public client registered through the real DCR endpoint, then authorization codes created
 *    through the provider's models exactly as its authorization endpoint creates them (PKCE S256,
 *    bound to the MCP resource) — so the timed exchange excludes login and consent;
 *  - refresh tokens obtained by exchanging such codes at the real token endpoint;
 *  - the login's password check (scrypt, the identity module's own parameters), timed on its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mcpResourceUrl } from '../../src/config/config.ts';
import { hashPassword, verifyPassword } from '../../src/identity/password.ts';
import { OAUTH_ROUTES } from '../../src/oauth/routes.ts';
import type { Sekisho } from '../../src/server.ts';
import type { CommandHandler } from '../lib/ipc.ts';

export interface AuthCommands {
  readonly available: boolean;
  readonly note: string;
  readonly commands: Record<string, CommandHandler>;
}

/** The benchmark's caller: the demo `demo` user with the basic scopes (a realistic per-user tool set). */
export const BENCH_USER = 'demo';
export const BENCH_SCOPES = ['mcp:tools', 'mcp:data'];
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

export interface CodeSupply {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly resource: string;
  readonly verifier: string;
  readonly codes: string[];
}

export interface RefreshSupply {
  readonly clientId: string;
  readonly resource: string;
  readonly tokens: string[];
}

export async function authCommands(sekisho: Sekisho): Promise<AuthCommands> {
  const as = sekisho.authorizationServer;
  if (!as) return { available: false, note: 'the built-in authorization server is off', commands: {} };
  const user = await sekisho.identity.findByUsername(BENCH_USER);
  if (!user) {
    return { available: false, note: `no "${BENCH_USER}" user (demo mode off?)`, commands: {} };
  }
  const provider = as.provider;
  const resource = mcpResourceUrl(sekisho.config);
  const scope = BENCH_SCOPES.join(' ');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  let clientId: string | undefined;
  const client = async (): Promise<string> => {
    if (clientId) return clientId;
    const res = await fetch(`${sekisho.url}${OAUTH_ROUTES.registration}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'sekisho-bench',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    });
    const body = (await res.json()) as { client_id?: string };
    if (res.status !== 201 || !body.client_id) throw new Error(`registration failed: ${res.status}`);
    clientId = body.client_id;
    return clientId;
  };

  /** One grant per code, like a user who authorizes once per code (oidc-provider's own models). */
  const makeCodes = async (count: number): Promise<CodeSupply> => {
    const id = await client();
    const found = await provider.Client.find(id);
    if (!found) throw new Error('registered client not found');
    const codes: string[] = [];
    for (let i = 0; i < count; i++) {
      const grant = new provider.Grant({ accountId: user.id, clientId: id });
      grant.addResourceScope(resource, scope);
      const grantId = await grant.save();
      const code = new provider.AuthorizationCode({
        accountId: user.id,
        client: found,
        grantId,
        redirectUri: REDIRECT_URI,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        resource: [resource],
        scope,
      } as never);
      codes.push(await code.save());
    }
    return { clientId: id, redirectUri: REDIRECT_URI, resource, verifier, codes };
  };

  const exchange = async (supply: CodeSupply, code: string): Promise<string> => {
    const res = await fetch(`${sekisho.url}${OAUTH_ROUTES.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: supply.redirectUri,
        code_verifier: supply.verifier,
        client_id: supply.clientId,
        resource,
      }),
    });
    const body = (await res.json()) as { refresh_token?: string; error?: string };
    if (res.status !== 200 || !body.refresh_token) {
      throw new Error(`code exchange failed: ${res.status} ${body.error ?? ''}`);
    }
    return body.refresh_token;
  };

  return {
    available: true,
    note: `real access tokens for "${BENCH_USER}" (${scope}) from the authorization server`,
    commands: {
      'access-tokens': async (args) => {
        const { count } = args as { count: number };
        const tokens: string[] = [];
        for (let i = 0; i < count; i++) {
          const issued = await as.issueAccessToken({ accountId: user.id, scopes: BENCH_SCOPES });
          tokens.push(issued.accessToken);
        }
        return tokens;
      },
      'auth-codes': (args) => makeCodes((args as { count: number }).count),
      'refresh-tokens': async (args): Promise<RefreshSupply> => {
        const supply = await makeCodes((args as { count: number }).count);
        const tokens: string[] = [];
        for (const code of supply.codes) tokens.push(await exchange(supply, code));
        return { clientId: supply.clientId, resource, tokens };
      },
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
