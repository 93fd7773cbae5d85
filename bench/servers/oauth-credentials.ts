/**
 * Credentials for the token-endpoint scenarios, made the same way for every oidc-provider under test
 * (Sekisho's and the plain reference), outside the timed section:
 *  - a public client registered through the server's real DCR endpoint;
 *  - authorization codes created through the provider's own models exactly as its authorization
 *    endpoint creates them (one grant each, PKCE S256, bound to the resource) — no login, no consent;
 *  - refresh tokens obtained by exchanging such codes at the real token endpoint.
 * One source for both servers, so "Sekisho refresh / plain refresh" compares like with like.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import { OAUTH_ROUTES } from '../../src/oauth/routes.ts';

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

export interface CredentialSource {
  readonly provider: Provider;
  /** Where the server listens (http://127.0.0.1:port); its OAuth routes are OAUTH_ROUTES. */
  readonly url: string;
  readonly accountId: string;
  readonly resource: string;
  readonly scope: string;
}

export interface Credentials {
  codes(count: number): Promise<CodeSupply>;
  refreshTokens(count: number): Promise<RefreshSupply>;
}

export function oauthCredentials(src: CredentialSource): Credentials {
  const { provider, url, accountId, resource, scope } = src;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  let clientId: string | undefined;
  const client = async (): Promise<string> => {
    if (clientId) return clientId;
    const res = await fetch(`${url}${OAUTH_ROUTES.registration}`, {
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
  const codes = async (count: number): Promise<CodeSupply> => {
    const id = await client();
    const found = await provider.Client.find(id);
    if (!found) throw new Error('registered client not found');
    const made: string[] = [];
    for (let i = 0; i < count; i++) {
      const grant = new provider.Grant({ accountId, clientId: id });
      grant.addResourceScope(resource, scope);
      const grantId = await grant.save();
      const code = new provider.AuthorizationCode({
        accountId,
        client: found,
        grantId,
        redirectUri: REDIRECT_URI,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        resource: [resource],
        scope,
      } as never);
      made.push(await code.save());
    }
    return { clientId: id, redirectUri: REDIRECT_URI, resource, verifier, codes: made };
  };

  const exchange = async (supply: CodeSupply, code: string): Promise<string> => {
    const res = await fetch(`${url}${OAUTH_ROUTES.token}`, {
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
    codes,
    async refreshTokens(count) {
      const supply = await codes(count);
      const tokens: string[] = [];
      for (const code of supply.codes) tokens.push(await exchange(supply, code));
      return { clientId: supply.clientId, resource, tokens };
    },
  };
}
