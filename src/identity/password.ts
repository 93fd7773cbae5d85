/**
 * Password hashing with scrypt (RFC 7914) from node:crypto. Stored form:
 *
 *   scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>
 *
 * Parameters travel with each hash, so raising the cost later only needs `needsRehash` on login.
 * Verification is constant-time (timingSafeEqual). Every derivation runs through a `HashPool`
 * (hash-pool.ts: dedicated worker threads, a concurrency cap and a bounded queue), so a login never
 * blocks the event loop and a burst of logins cannot queue unbounded work; the server passes its
 * configured pool, the CLI and tests use a process-wide default one. Passwords are NFKC-normalised first (NIST SP 800-63B §5.1.1.2),
 * so the same password typed on different keyboards/IMEs verifies.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createHashPool, defaultHashConcurrency, type HashPool } from './hash-pool.ts';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** N=2^15, r=8, p=1: the OWASP-recommended minimum for scrypt; 32 MiB per hash. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Longest password accepted for hashing (bytes after normalisation): bounds the work per request. */
export const MAX_PASSWORD_BYTES = 1024;

let defaultPool: HashPool | undefined;
/** The process-wide pool for callers that were given none (the CLI, tests): no practical queue bound. */
function sharedPool(): HashPool {
  defaultPool ??= createHashPool({ concurrency: defaultHashConcurrency(), queue: 10_000 });
  return defaultPool;
}

export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
  pool: HashPool = sharedPool(),
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await pool.derive({ password: normalise(password), salt, ...params, length: KEY_BYTES });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/**
 * True when `password` matches `stored`. A malformed or out-of-bounds stored hash verifies as false
 * (after doing comparable work), never throws: a corrupt row must not become a 500 or a bypass.
 * Throws `HashBusyError` when the pool is full (nothing was checked).
 */
export async function verifyPassword(
  password: string,
  stored: string,
  pool: HashPool = sharedPool(),
  owner?: string,
): Promise<boolean> {
  const parsed = parse(stored);
  // A corrupt row costs the same work as a real one (against the dummy hash) and never matches.
  const target = parsed ?? (parse(await dummyHash()) as Parsed);
  const actual = await pool.derive(
    { password: normalise(password), salt: target.salt, ...target.params, length: target.hash.length },
    owner,
  );
  return parsed !== undefined && timingSafeEqual(actual, target.hash);
}

/**
 * Spends the same time, through the same pool, as a real verification (of a hash made with
 * `params`), for users that do not exist.
 */
export async function verifyAgainstDummy(
  password: string,
  pool: HashPool = sharedPool(),
  params: ScryptParams = DEFAULT_SCRYPT,
  owner?: string,
): Promise<false> {
  await verifyPassword(password, await dummyHash(params), pool, owner);
  return false;
}

/** True when `stored` was made with other parameters than `params` (rehash it after a good login). */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parse(stored);
  return (
    !parsed || parsed.params.N !== params.N || parsed.params.r !== params.r || parsed.params.p !== params.p
  );
}

/** True when the password is too long to hash (the caller rejects it as invalid before any work). */
export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(normalise(password)) > MAX_PASSWORD_BYTES;
}

const dummies = new Map<string, Promise<string>>();
function dummyHash(params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  // Made once per process and cost through the shared pool (never refused).
  const key = `${params.N}$${params.r}$${params.p}`;
  let dummy = dummies.get(key);
  if (!dummy) {
    dummy = hashPassword(randomBytes(18).toString('base64url'), params);
    dummies.set(key, dummy);
  }
  return dummy;
}

function normalise(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function parse(stored: string): Parsed | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((v) => (/^\d{1,8}$/.test(v ?? '') ? Number(v) : Number.NaN));
  const [salt, hash] = [parts[4] ?? '', parts[5] ?? ''];
  // Bounds stop a tampered row from making one login cost gigabytes or minutes.
  if (!N || !r || !p || N < 2 ** 10 || N > 2 ** 20 || (N & (N - 1)) !== 0) return undefined;
  if (r > 32 || p > 16 || !B64URL.test(salt) || !B64URL.test(hash)) return undefined;
  const hashBytes = Buffer.from(hash, 'base64url');
  if (hashBytes.length < 16 || hashBytes.length > 64) return undefined;
  return { params: { N, r, p }, salt: Buffer.from(salt, 'base64url'), hash: hashBytes };
}
