/**
 * (f) The token endpoint, through the real oidc-provider on SQLite: refresh-token grants (each one
 * rotates the refresh token and signs a new JWT access token) and authorization-code exchanges
 * (PKCE S256 check, one-time code consumption, grant lookup, token signing). Login and consent are
 * outside the timed section: codes are created through the provider's own models beforehand
 * (servers/sekisho-auth.ts), and the scrypt password check is measured on its own.
 */
import type { HttpRequestSpec } from './lib/load.ts';
import { sendOnce } from './lib/send-once.ts';
import type { Prepared, Scenario, ServerKind } from './scenarios.ts';
import type { CodeSupply, RefreshSupply } from './servers/oauth-credentials.ts';

const TOKEN_PATH = '/oauth/token';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

function form(params: Record<string, string>): HttpRequestSpec {
  return { method: 'POST', path: TOKEN_PATH, headers: FORM, body: new URLSearchParams(params).toString() };
}

/**
 * A token answer is only counted as one when it is what the scenario measures: 200, a new refresh
 * token, and an RFC 9068 JWT access token signed ES256 for the requested resource (not an opaque
 * token, which would skip the signature the scenario is about).
 */
export async function expectTokens(url: string, spec: HttpRequestSpec, resource: string): Promise<string> {
  const res = await sendOnce(url, spec);
  if (!res.text) throw new Error(`token endpoint: ${res.status} with an empty body`);
  const body = JSON.parse(res.text) as { access_token?: string; refresh_token?: string; error?: string };
  if (res.status !== 200 || !body.access_token || !body.refresh_token) {
    throw new Error(`token endpoint: expected 200 with tokens, got ${res.status} ${body.error ?? ''}`);
  }
  const [header, payload] = body.access_token.split('.');
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8') || '{}') as Record<string, unknown>;
  let alg: unknown;
  let aud: unknown;
  try {
    alg = decode(header).alg;
    aud = decode(payload).aud;
  } catch {
    throw new Error('token endpoint: the access token is not a JWT');
  }
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (alg !== 'ES256' || !audiences.includes(resource)) {
    throw new Error(
      `token endpoint: expected an ES256 JWT for ${resource}, got alg ${String(alg)}, aud ${String(aud)}`,
    );
  }
  return body.refresh_token;
}

/** Codes for `durationSec` at the last measured rate (+30 %), bounded so preparation stays short. */
function codesNeeded(expectedRps: number | undefined, durationSec: number): number {
  if (expectedRps === undefined) return 300;
  return Math.min(40_000, Math.ceil(expectedRps * durationSec * 1.3) + 100);
}

/**
 * Refresh-token grants on `chains` concurrent refresh chains (BenchOptions.refreshChains, 16 by
 * default; one connection each): every answer's rotated refresh token goes back into the pool and
 * is what the next request on a free connection sends.
 */
export function refreshScenario(id: string, label: string, server: ServerKind): Scenario {
  return {
    id,
    label,
    server,
    concurrency: 'refresh-chains',
    // A fresh pool per run: requests still in flight when a run stops may have rotated their token
    // on the server while the client never saw the new one, so a pool shrinks a little every run.
    perRound: true,
    async prepare(child, ctx): Promise<Prepared> {
      if (!child.info.authenticated) throw new Error('needs the authorization server');
      // One token per connection, one the load generator spends on its request template (never sent:
      // autocannon builds each connection's first request itself), one for the check.
      const supply = await child.call<RefreshSupply>(
        'refresh-tokens',
        { count: ctx.connections + 2 },
        600_000,
      );
      const pool = [...supply.tokens];
      const spare = pool.pop()!;
      const request = () =>
        form({
          grant_type: 'refresh_token',
          refresh_token: pool.shift() ?? 'pool-exhausted',
          client_id: supply.clientId,
          resource: supply.resource,
        });
      // autocannon hands each answer to onBody before it builds that connection's next request, so
      // a chain continues on its own connection and at most `connections` refreshes are in flight.
      const onBody = (status: number, body: string) => {
        if (status !== 200) return;
        const token = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
        if (token) pool.push(token);
      };
      return {
        request,
        onBody,
        checkWith: form({
          grant_type: 'refresh_token',
          refresh_token: spare,
          client_id: supply.clientId,
          resource: supply.resource,
        }),
        resource: supply.resource,
      };
    },
    check: async (child, prepared) => {
      await expectTokens(child.url, prepared.checkWith!, prepared.resource!);
    },
  };
}

export const TOKEN_SCENARIOS: readonly Scenario[] = [
  refreshScenario('f-refresh', 'token endpoint: refresh grant (rotating)', 'sekisho'),
  // The same grant on plain oidc-provider (servers/plain-provider.ts): f-refresh / f-refresh-ref is
  // what Sekisho's additions around the engine cost.
  refreshScenario('f-refresh-ref', 'plain oidc-provider: refresh grant (reference)', 'plain-oidc'),
  // …and on Sekisho's SQLite adapter: splits that cost into the durable store and everything else.
  refreshScenario(
    'f-refresh-ref-sqlite',
    "plain oidc-provider on Sekisho's SQLite adapter: refresh grant",
    'plain-oidc-sqlite',
  ),
  refreshScenario(
    'f-refresh-pg-redis',
    'token endpoint: refresh grant, PostgreSQL + Redis',
    'sekisho-pg-redis',
  ),
  {
    id: 'f-code',
    label: 'token endpoint: authorization-code exchange',
    server: 'sekisho',
    perRound: true,
    async prepare(child, ctx): Promise<Prepared> {
      if (!child.info.authenticated) throw new Error('needs the authorization server');
      const wanted = codesNeeded(ctx.expectedRps, ctx.durationSec);
      // autocannon may build one request per connection beyond `amount`: keep that many in reserve
      // (and one for the check), so no request is ever sent with a spent or missing code.
      const count = wanted + ctx.connections + 1;
      const supply = await child.call<CodeSupply>('auth-codes', { count }, 600_000);
      const codes = supply.codes;
      const spec = (code: string) =>
        form({
          grant_type: 'authorization_code',
          code,
          redirect_uri: supply.redirectUri,
          code_verifier: supply.verifier,
          client_id: supply.clientId,
          resource: supply.resource,
        });
      const spare = codes.pop()!;
      let next = 0;
      return {
        request: () => spec(codes[next++] ?? 'codes-exhausted'),
        amount: wanted,
        checkWith: spec(spare),
        resource: supply.resource,
      };
    },
    check: async (child, prepared) => {
      await expectTokens(child.url, prepared.checkWith!, prepared.resource!);
    },
  },
];
