/**
 * The authorization server's published keys (RFC 7517) and the server's clock. Keys must be
 * asymmetric public keys with a `kid` (clients and resource servers pick the key by it across a
 * rotation) and must never carry private members. A clock far off breaks DPoP proofs and ID-token
 * checks, whose `iat` windows are about a minute.
 */
import { type CheckContext, noteDate, shown } from '../context.ts';
import { HttpFailure, jsonObject } from '../http.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const ASYMMETRIC = new Set(['EC', 'RSA', 'OKP']);
const SKEW_WARN_MS = 60_000;
const SKEW_FAIL_MS = 300_000;

export async function checkKeys(ctx: CheckContext): Promise<void> {
  const { findings, learnt } = ctx;
  const jwksUri = learnt.as?.jwks_uri;
  if (typeof jwksUri !== 'string') {
    if (learnt.as)
      findings.warn(
        'keys',
        'keys.jwks',
        'No jwks_uri in the metadata',
        'clients cannot verify ID tokens, nor resource servers JWT access tokens',
        'Publish the signing keys (Sekisho does at /oauth/jwks)',
      );
    else findings.skip('keys', 'keys.jwks', 'Signing keys', 'no authorization server metadata');
    return;
  }
  let keys: unknown[];
  try {
    const { response } = await ctx.http.follow(jwksUri, { headers: { accept: 'application/json' } });
    noteDate(learnt, response);
    const doc = response.status === 200 ? jsonObject(response) : undefined;
    if (!doc || !Array.isArray(doc.keys)) {
      findings.fail(
        'keys',
        'keys.jwks',
        'JWKS not readable',
        `${jwksUri}: HTTP ${response.status}${doc ? ', no keys array' : ''}`,
        'Forward the jwks_uri path to the authorization server',
      );
      return;
    }
    keys = doc.keys;
  } catch (error) {
    findings.fail(
      'keys',
      'keys.jwks',
      'JWKS unreachable',
      `${jwksUri}: ${error instanceof HttpFailure ? error.message : String(error)}`,
      'Forward the jwks_uri path to the authorization server',
    );
    return;
  }
  if (keys.length === 0) {
    findings.fail(
      'keys',
      'keys.jwks',
      'JWKS has no keys',
      jwksUri,
      'Create a signing key (`sekisho keys rotate`)',
    );
    return;
  }
  findings.pass(
    'keys',
    'keys.jwks',
    `JWKS reachable (${keys.length} key${keys.length === 1 ? '' : 's'})`,
    jwksUri,
  );

  const problems: string[] = [];
  const warnings: string[] = [];
  keys.forEach((raw, index) => {
    const key = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const name = typeof key.kid === 'string' ? `kid ${shown(key.kid, 40)}` : `key #${index + 1}`;
    const leaked = PRIVATE_MEMBERS.filter((m) => m in key);
    if (leaked.length) problems.push(`${name} publishes private members (${leaked.join(', ')})`);
    if (!ASYMMETRIC.has(String(key.kty)))
      problems.push(`${name} is not an asymmetric key (kty ${shown(String(key.kty), 20)})`);
    if (key.kty === 'RSA' && typeof key.n === 'string' && Buffer.from(key.n, 'base64url').length * 8 < 2048)
      problems.push(`${name} is an RSA key under 2048 bits`);
    if (typeof key.kid !== 'string' || key.kid === '') warnings.push(`key #${index + 1} has no kid`);
    if (key.use !== undefined && key.use !== 'sig')
      warnings.push(`${name} has use ${shown(String(key.use), 20)}`);
  });
  if (problems.length)
    findings.fail(
      'keys',
      'keys.sane',
      'Unsafe keys in the JWKS',
      problems.join('; '),
      'Publish only public asymmetric signing keys; if private parts were published, rotate at once (`sekisho keys rotate`)',
    );
  else if (warnings.length)
    findings.warn(
      'keys',
      'keys.sane',
      'Keys without kid or with another use',
      warnings.join('; '),
      'Give every signing key a kid and use sig',
    );
  else findings.pass('keys', 'keys.sane', 'Keys are public, asymmetric and named (kid)');
}

export function checkClock(ctx: CheckContext): void {
  const { findings, learnt } = ctx;
  if (learnt.skews.length === 0) {
    findings.skip('keys', 'clock.skew', 'Clock', 'no Date header in any answer');
    return;
  }
  // The median, so one slow answer does not count as skew; Date has one-second resolution.
  const sorted = [...learnt.skews].sort((a, b) => a - b);
  const skew = sorted[Math.floor(sorted.length / 2)] as number;
  const seconds = Math.round(skew / 1000);
  const detail = `server ${seconds >= 0 ? 'ahead of' : 'behind'} this machine by ${Math.abs(seconds)} s`;
  const fix = 'Run NTP on the server (and on this machine: the doctor compares with its own clock)';
  if (Math.abs(skew) <= SKEW_WARN_MS) findings.pass('keys', 'clock.skew', 'Clock in step', detail);
  else if (Math.abs(skew) <= SKEW_FAIL_MS)
    findings.warn('keys', 'clock.skew', 'Clock skew over a minute', detail, fix);
  else findings.fail('keys', 'clock.skew', 'Clock skew over five minutes', detail, fix);
}
