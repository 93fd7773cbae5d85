/**
 * The state of one upstream sign-in between "Sign in with …" and the provider's redirect back.
 * Kept server-side in storage (so any instance can finish it), keyed by the SHA-256 of `state`
 * (the value travels in URLs; the row never holds it), and:
 *  - bound to the browser: the row holds the SHA-256 of a random value in an HttpOnly cookie set
 *    when the round trip started; a callback without that cookie is refused (login CSRF, a
 *    `state` stolen from a log or a Referer is useless elsewhere);
 *  - bound to the pending oidc-provider interaction (its uid), so the sign-in finishes only the
 *    authorization request it started from;
 *  - single use: taken with the storage's atomic `consume`, so a replayed callback is refused;
 *  - expiring: ROUND_TRIP_TTL_SECONDS, never longer than the interaction it belongs to.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http/errors.ts';
import { type PageCookies, readCookie } from '../oauth/page-cookies.ts';
import type { Storage } from '../storage/types.ts';
import type { RoundTripSecrets } from './upstream-client.ts';

const MODEL = 'UpstreamLogin';
/** How long a user may spend at the provider. */
export const ROUND_TRIP_TTL_SECONDS = 10 * 60;
const BINDING = /^[A-Za-z0-9_-]{43}$/;

export interface PendingSignIn {
  readonly providerId: string;
  /** The oidc-provider interaction this sign-in answers. */
  readonly uid: string;
  readonly secrets: RoundTripSecrets;
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

export function createRoundTrips(storage: Storage, cookies: PageCookies) {
  return {
    /** Stores the round trip and sets (or keeps) this browser's binding cookie. */
    async start(
      req: IncomingMessage,
      res: ServerResponse,
      pending: PendingSignIn,
      interactionExpiresIn: number,
    ): Promise<void> {
      const present = readCookie(req, cookies.upstream);
      // One binding per browser, so sign-ins started in two tabs both finish.
      const binding = present && BINDING.test(present) ? present : randomBytes(32).toString('base64url');
      const ttl = Math.max(1, Math.min(ROUND_TRIP_TTL_SECONDS, Math.floor(interactionExpiresIn)));
      await storage.upsert(
        MODEL,
        digest(pending.secrets.state),
        {
          providerId: pending.providerId,
          uid: pending.uid,
          nonce: pending.secrets.nonce,
          codeVerifier: pending.secrets.codeVerifier,
          browser: digest(binding),
        },
        ttl,
      );
      cookies.set(res, cookies.upstream, binding, ROUND_TRIP_TTL_SECONDS, 'Lax');
    },

    /**
     * The round trip `state` names, taken once: refused when unknown or expired, started in another
     * browser, or already used.
     */
    async take(req: IncomingMessage, state: string | undefined): Promise<PendingSignIn> {
      if (!state || state.length > 512) throw stale('The sign-in response carries no usable state.');
      const id = digest(state);
      const row = await storage.find(MODEL, id);
      if (!row) throw stale('This sign-in is unknown or has expired.');
      const binding = readCookie(req, cookies.upstream);
      const expected = Buffer.from(String(row.browser));
      const actual = Buffer.from(binding && BINDING.test(binding) ? digest(binding) : '');
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
        throw new HttpError(403, 'upstream_state_invalid', 'This sign-in was started in another browser.');
      }
      if (row.consumed !== undefined || !(await storage.consume(MODEL, id))) {
        throw stale('This sign-in response was already used.');
      }
      return {
        providerId: String(row.providerId),
        uid: String(row.uid),
        secrets: { state, nonce: String(row.nonce), codeVerifier: String(row.codeVerifier) },
      };
    },
  };
}

export type RoundTrips = ReturnType<typeof createRoundTrips>;

function stale(message: string): HttpError {
  return new HttpError(400, 'upstream_state_invalid', message);
}
