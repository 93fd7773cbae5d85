/**
 * `sekisho clients add …` run in process against a test server's database (the way an operator
 * would, beside the running server), plus the two ways such a client authenticates at the token
 * endpoint: HTTP Basic with its secret, or a private_key_jwt assertion (RFC 7523 §2.2).
 */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { type CliRun, runCliCaptured } from './cli.ts';
import type { TestServer } from './server.ts';

export type { CliRun };

export function sekishoCli(srv: TestServer, args: readonly string[]): Promise<CliRun> {
  return sekishoCliAt(srv.dataDir, args);
}

/** The CLI against a data directory (and, in `env`, any other database setting). */
export function sekishoCliAt(
  dataDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return runCliCaptured([...args, '--data-dir', dataDir], { SEKISHO_LOG_LEVEL: 'silent', ...env });
}

export interface AddedClient {
  readonly clientId: string;
  readonly clientSecret?: string;
}

/** `clients add <name> … --json`; throws with the CLI's message when it refuses. */
export async function addClient(
  srv: TestServer,
  name: string,
  flags: readonly string[],
): Promise<AddedClient> {
  const run = await sekishoCli(srv, ['clients', 'add', name, ...flags, '--json']);
  if (run.code !== 0) throw new Error(`clients add failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as AddedClient;
}

export function basicAuth(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

export interface KeyPair {
  readonly privateKey: CryptoKey;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export async function es256KeyPair(kid: string = randomUUID()): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    privateKey,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
}

/** A client assertion for private_key_jwt: iss = sub = client_id, aud = the token endpoint. */
export function clientAssertion(
  key: KeyPair,
  clientId: string,
  audience: string,
  overrides: { jti?: string; exp?: number } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.publicJwk.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(overrides.jti ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 60)
    .sign(key.privateKey);
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
