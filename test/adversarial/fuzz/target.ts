/**
 * The servers under fuzz and what a real client would hold against them. Two in-process Sekisho
 * instances — one with anonymous access on, one without — each logging to a buffer at `warn`, so
 * every error-level line can be counted. Credentials come from the real flows: a registered client
 * signed in through the real pages (access + refresh token), a token for the admin user, a live login
 * interaction with its cookies and CSRF token, and the account page's sign-in form.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { addOperatorClient } from '../../../src/oauth/operator-clients.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { rawJws } from '../../helpers/access-tokens.ts';
import { CookieJar, parseForms } from '../../helpers/browserless-login.ts';
import { type ForeignProvider, startForeignProvider } from '../../helpers/foreign-provider.ts';
import { authorizeUrl, pkce, type RegisteredClient, registerClient, signIn } from '../../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { trustTestKeys } from '../../helpers/trusted-tokens.ts';
import type { Credentials } from './requests.ts';

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface FuzzTarget {
  readonly name: string;
  readonly srv: TestServer;
  readonly credentials: Credentials;
  /** The client the credentials were issued to (registration is rate-limited: reuse it). */
  readonly client: RegisteredClient;
  /** A user the fuzzer never names, for the health check's sign-in after the run. */
  readonly healthUser: { readonly username: string; readonly password: string };
  /** A client the fuzzer never names, for the same check. */
  readonly healthClient: RegisteredClient;
  /** Every line the server logged at warn or above. */
  readonly lines: LogLine[];
  /** The upstream OpenID provider users of this target may sign in with. */
  readonly upstream: ForeignProvider;
}

export async function startTarget(name: string, env: Record<string, string>): Promise<FuzzTarget> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const idp = await fuzzIdp();
  const upstream = await startForeignProvider({ users: [{ username: 'fuzz', password: 'fuzz-pw' }] });
  const upstreamSecret = randomBytes(24).toString('base64url');
  let srv: TestServer;
  try {
    srv = await startTestServer(
      {
        SEKISHO_DEMO: '1',
        SEKISHO_ENTERPRISE_IDPS: idp.setting,
        SEKISHO_UPSTREAM_ISSUER: upstream.issuer,
        SEKISHO_UPSTREAM_CLIENT_ID: 'sekisho-fuzz',
        SEKISHO_UPSTREAM_CLIENT_SECRET: upstreamSecret,
        ...env,
      },
      { logger: createLogger('warn', sink) },
    );
  } catch (error) {
    await upstream.close();
    throw error;
  }
  upstream.addClient({
    client_id: 'sekisho-fuzz',
    client_secret: upstreamSecret,
    redirect_uris: [`${srv.url}/upstream/callback`],
  });
  try {
    const demo = await signIn(srv.url, { username: 'demo', password: 'demo123' });
    if (demo.tokens.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(demo.tokens.body)}`);
    // The health check's own user and client, never named to the fuzzer: its requests (the admin
    // console's, with a live admin session) may rightly remove the demo client or user.
    const healthUser = { username: 'after-fuzz', password: `${randomBytes(18).toString('base64url')}!Aa1` };
    await srv.sekisho.identity.addUser(healthUser);
    const healthClient = await registerClient(srv.url);
    return {
      name,
      srv,
      client: demo.client,
      credentials: {
        ...(await credentialsFor(srv, demo)),
        enterprise: await idp.enterprise(srv),
        upstream: { id: srv.config.upstreams[0]!.id, issuer: upstream.issuer },
      },
      healthUser,
      healthClient,
      lines,
      upstream,
    };
  } catch (error) {
    await srv.close();
    await upstream.close();
    throw error;
  }
}

const FUZZ_IDP = 'https://idp.fuzz.example';
const ENTERPRISE_CLIENT = 'fuzz-enterprise';

/** A trusted enterprise IdP (inline key), its client and a set of real and near-miss ID-JAGs. */
async function fuzzIdp() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'fuzz-idp', alg: 'ES256' };
  const setting = JSON.stringify([
    { issuer: FUZZ_IDP, jwks: { keys: [publicJwk] }, clients: [ENTERPRISE_CLIENT], users: 'jit' },
  ]);
  const enterprise = async (srv: TestServer): Promise<Credentials['enterprise']> => {
    const client = await addOperatorClient(srv.sekisho.storage, {
      name: 'Fuzz assistant',
      enterprise: true,
      auth: 'client_secret_basic',
      clientId: ENTERPRISE_CLIENT,
    });
    const now = Math.floor(Date.now() / 1000);
    const claims = (over: Record<string, unknown> = {}) => ({
      iss: FUZZ_IDP,
      sub: `fuzz-${randomUUID()}`,
      aud: srv.url,
      client_id: ENTERPRISE_CLIENT,
      resource: `${srv.url}/mcp`,
      scope: 'mcp:tools mcp:data',
      jti: randomUUID(),
      iat: now,
      // Long enough for a 30-minute fuzz run under load (the server's ceiling is 10 minutes: the
      // valid ones become "lives too long" refusals only if minted that far ahead, which they are not).
      exp: now + 600,
      ...over,
    });
    const sign = (payload: Record<string, unknown>, typ = 'oauth-id-jag+jwt') =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'fuzz-idp', typ }).sign(privateKey);
    const assertions = await Promise.all([
      sign(claims()),
      sign(claims()),
      sign(claims({ sub: 'fuzz-repeat' })),
      sign(claims({ scope: 'mcp:admin' })),
      sign(claims({ scope: undefined, resource: undefined })),
      sign(claims(), 'JWT'),
      sign(claims({ exp: now - 60, iat: now - 400 })),
      sign(claims({ aud: `${srv.url}/mcp` })),
      sign(claims({ client_id: 'someone-else' })),
      sign(claims({ iss: 'https://untrusted.example' })),
      sign(claims({ resource: 'https://evil.example/mcp' })),
      sign(claims({ sub: 'x'.repeat(600) })),
      new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', typ: 'oauth-id-jag+jwt' })
        .sign(randomBytes(32)),
      Promise.resolve(rawJws({ alg: 'none', typ: 'oauth-id-jag+jwt' }, claims())),
    ]);
    return { clientId: client.clientId, clientSecret: client.clientSecret!, assertions };
  };
  return { setting, enterprise };
}

async function credentialsFor(
  srv: TestServer,
  demo: Awaited<ReturnType<typeof signIn>>,
): Promise<Omit<Credentials, 'enterprise' | 'upstream'>> {
  const trusted = await trustTestKeys(srv, 'fuzz');
  const adminToken = await trusted.token('admin', 'openid mcp:tools mcp:admin');

  // A login interaction left open at its first page: its uid, cookies and CSRF token.
  const client = demo.client;
  const jar = new CookieJar();
  const start = await jar.fetch(
    authorizeUrl(srv.url, {
      clientId: client.client_id,
      challenge: pkce().challenge,
      resource: `${srv.url}/mcp`,
    }),
  );
  const location = start.headers.get('location');
  if (!location) throw new Error(`no interaction redirect (${start.status})`);
  const interactionUrl = new URL(location, srv.url);
  const page = await (await jar.fetch(interactionUrl)).text();
  const csrf = parseForms(page)[0]?.fields.csrf;
  if (!csrf) throw new Error('no CSRF token on the login page');

  const accountJar = new CookieJar();
  const accountPage = await (await accountJar.fetch(`${srv.url}/account`)).text();
  const accountCsrf = parseForms(accountPage)[0]?.fields.csrf;
  if (!accountCsrf) throw new Error('no CSRF token on the account sign-in page');

  // A live 2025-era session of the demo user, so session requests reach the session transport.
  const opened = await fetch(`${srv.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${demo.tokens.body.access_token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } },
    }),
  });
  await opened.text();
  const demoSession = opened.headers.get('mcp-session-id') ?? 'no-session';

  // The demo admin signed in on the account page, and the console's CSRF token for that sign-in.
  const adminJar = new CookieJar();
  const signInForm = parseForms(await (await adminJar.fetch(`${srv.url}/account`)).text())[0];
  if (!signInForm) throw new Error('no sign-in form on the account page');
  await adminJar.fetch(new URL(signInForm.action, srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...signInForm.fields, username: 'admin', password: 'admin123' }),
  });
  const consolePage = await (await adminJar.fetch(`${srv.url}/admin/users`)).text();
  const adminCsrf = parseForms(consolePage).find((f) => f.fields.csrf)?.fields.csrf;
  if (!adminCsrf) throw new Error('no CSRF token on the admin console');

  return {
    host: new URL(srv.url).host,
    mcpPath: '/mcp',
    demoToken: demo.tokens.body.access_token,
    demoSession,
    clientId: demo.client.client_id,
    refreshToken: demo.tokens.body.refresh_token,
    adminToken,
    interaction: {
      uid: interactionUrl.pathname.split('/').pop()!,
      cookie: jar.header(srv.url) ?? '',
      csrf,
    },
    account: { cookie: accountJar.header(srv.url) ?? '', csrf: accountCsrf },
    admin: { cookie: adminJar.header(srv.url) ?? '', csrf: adminCsrf },
  };
}
