/**
 * Server-provided DPoP nonces at /mcp (RFC 9449 §9), without shared state. A nonce is derived from
 * the time step (one minute) and a key every instance derives from the signing keys in shared storage
 * (`oauth/secrets.ts`), so any instance accepts a nonce any other handed out, and nothing is stored.
 *
 * The derivation is oidc-provider's own for the token endpoint's nonces (`features.dPoP.nonceSecret`,
 * its ServerChallenge: HKDF-SHA256 of the key with the 8-byte big-endian step as salt and `DPoP` as
 * info), with the same key: the authorization server and /mcp share an origin, and clients — the v2
 * SDK's DpopSession among them — keep one nonce per origin, so one nonce must serve both. As there, a
 * nonce handed out for step s+1 is good for steps s−2 … s+2 (about 4–5 minutes). The active key makes
 * nonces; every published key verifies them, so a key rotation does not invalidate the last minutes'.
 */
import { hkdfSync, timingSafeEqual } from 'node:crypto';

/** Seconds per nonce step (oidc-provider's). */
export const DPOP_NONCE_STEP_SECONDS = 60;
const MAX_NONCE_LENGTH = 64;

export interface DpopNonces {
  /** The nonce to hand out now. */
  current(): string;
  /** True for a nonce this server (or any instance sharing its keys) handed out recently. */
  valid(nonce: unknown): boolean;
}

/** `keys`: the DPoP nonce keys, the active one first (read on every call: they follow rotation). */
export function createDpopNonces(keys: () => readonly Buffer[], now: () => number = Date.now): DpopNonces {
  const stepNow = () => Math.floor(now() / 1000 / DPOP_NONCE_STEP_SECONDS);
  return {
    current() {
      const key = keys()[0];
      if (!key) throw new Error('no key to make DPoP nonces with');
      return nonceAt(key, stepNow() + 1);
    },
    valid(nonce) {
      if (typeof nonce !== 'string' || nonce === '' || nonce.length > MAX_NONCE_LENGTH) return false;
      const presented = Buffer.from(nonce);
      const step = stepNow();
      let ok = false;
      for (const key of keys()) {
        for (let s = step - 2; s <= step + 2; s++) {
          const expected = Buffer.from(nonceAt(key, s));
          ok = (expected.length === presented.length && timingSafeEqual(expected, presented)) || ok;
        }
      }
      return ok;
    },
  };
}

function nonceAt(key: Buffer, step: number): string {
  const salt = Buffer.alloc(8);
  salt.writeBigUInt64BE(BigInt(step));
  return Buffer.from(hkdfSync('sha256', key, salt, 'DPoP', 32)).toString('base64url');
}
