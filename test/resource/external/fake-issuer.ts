/**
 * A minimal stand-in for an external authorization server, for the verifier's unit tests: metadata,
 * a JWKS whose keys the test swaps (rotation), and an RFC 7662 introspection endpoint answering what
 * the test says. It counts requests, so caching and cooldowns can be checked. (The end-to-end tests
 * use a real oidc-provider instead: test/helpers/foreign-provider.ts.)
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function signingKey(kid: string, alg = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface FakeIssuer {
  readonly url: string;
  readonly issuer: string;
  /** Keys the JWKS publishes now (replace to rotate). */
  keys: SigningKey[];
  /** What introspection answers for a token (default: inactive). */
  introspection: Map<string, Record<string, unknown>>;
  /** Status the JWKS/introspection endpoints answer instead (e.g. 500), when set. */
  failWith: number | undefined;
  readonly counts: { jwks: number; introspection: number; metadata: number };
  /** Authorization headers and bodies seen at introspection. */
  readonly introspectionRequests: { authorization: string | undefined; body: string }[];
  /** Milliseconds the introspection endpoint waits before answering. */
  introspectionDelayMs: number;
  /** Paths that answer 404 (discovery fallbacks). */
  readonly missing: Set<string>;
  /** Overrides of the metadata document. */
  metadata: Record<string, unknown>;
  sign(claims: JWTPayload, opts?: { key?: SigningKey; typ?: string; alg?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeIssuer = {
    url,
    issuer: url,
    keys: [await signingKey('k1')],
    introspection: new Map(),
    failWith: undefined,
    counts: { jwks: 0, introspection: 0, metadata: 0 },
    introspectionRequests: [],
    introspectionDelayMs: 0,
    missing: new Set(),
    metadata: {},
    async sign(claims, opts = {}) {
      const key = opts.key ?? fake.keys[0]!;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: opts.alg ?? key.alg, kid: key.kid, typ: opts.typ ?? 'at+jwt' })
        .sign(key.privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server.on('request', async (req, res) => {
    const path = new URL(req.url ?? '/', url).pathname;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (fake.missing.has(path)) return json(404, { error: 'not_found' });
    if (path.startsWith('/.well-known/')) {
      fake.counts.metadata++;
      return json(200, {
        issuer: fake.issuer,
        jwks_uri: `${url}/jwks`,
        introspection_endpoint: `${url}/introspect`,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/token`,
        id_token_signing_alg_values_supported: ['ES256', 'RS256', 'HS256', 'none'],
        ...fake.metadata,
      });
    }
    if (path === '/jwks') {
      fake.counts.jwks++;
      if (fake.failWith) return json(fake.failWith, { error: 'server_error' });
      return json(200, { keys: fake.keys.map((k) => k.publicJwk) });
    }
    if (path === '/introspect' && req.method === 'POST') {
      fake.counts.introspection++;
      const body = await readBody(req);
      fake.introspectionRequests.push({ authorization: req.headers.authorization, body });
      if (fake.introspectionDelayMs > 0) await new Promise((r) => setTimeout(r, fake.introspectionDelayMs));
      if (fake.failWith) return json(fake.failWith, { error: 'server_error' });
      const token = new URLSearchParams(body).get('token') ?? '';
      return json(200, fake.introspection.get(token) ?? { active: false });
    }
    json(404, { error: 'not_found' });
  });
  return fake;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
