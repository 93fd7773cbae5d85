/**
 * The device authorization grant (RFC 8628) on oidc-provider's `features.deviceFlow`: the protocol
 * (device authorization endpoint, verification endpoint, the device_code grant with
 * `authorization_pending`, `expired_token`, `access_denied`) is oidc-provider's. What lives here:
 *
 *  - the pages (`ui/pages/device.ts`): code entry, "is this your device?" (app, scopes, the code,
 *    where the request came from, who is signed in), done / denied; in English and Japanese;
 *  - user codes: 8 letters from a 20-consonant alphabet (`BCDFGHJKLMNPQRSTVWXZ`, no vowels so no
 *    words, no look-alike digits), shown as `XXXX-XXXX`: 20^8 ≈ 2^34.6 codes, RFC 8628 §6.1's own
 *    example, safe *with* rate limiting — so wrong codes are throttled per client address
 *    (DEVICE_CODE_FAILURES per DEVICE_CODE_WINDOW_SECONDS, then 429);
 *  - `interval` (SEKISHO_DEVICE_POLL_INTERVAL_SECONDS) in the device authorization response, and
 *    `slow_down` (RFC 8628 §3.5), which
 *    oidc-provider does not implement: a device polling again sooner than `interval` seconds while
 *    the request is still pending gets `slow_down` (one poll per interval, remembered in the
 *    replay cache, so every instance agrees when it is shared);
 *  - the same tokens as the code flow: the login and consent pages run as interactions (consent
 *    downscopes to the role, step-up asks again), and the token endpoint applies the same resource,
 *    refresh and TTL policy (`provider.ts`).
 */
import type { IncomingMessage } from 'node:http';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Identity } from '../identity/users.ts';
import { secondsUntilWindowEnds } from '../storage/rate-window.ts';
import { hashTokenId } from '../storage/sidecar.ts';
import type { RateLimitStore, ReplayCache, Storage } from '../storage/types.ts';
import {
  type DeviceProblem,
  deviceCodeEntryPage,
  deviceConfirmPage,
  deviceDonePage,
} from '../ui/pages/device.ts';
import { forbiddenPage } from '../ui/pages/error.ts';
import { DEVICE_CODE_GRANT } from './grant-types.ts';
import { langOf, switchHref } from './interactions/context.ts';
import { setPageHeaders } from './page-http.ts';
import { OAUTH_ROUTES } from './routes.ts';
import type { ScopePolicy } from './scope-policy.ts';

/** Seconds a device code and its user code live. */
export const DEVICE_CODE_TTL_SECONDS = 600;
export const DEVICE_CODE_CHARSET = 'base-20';
export const DEVICE_CODE_MASK = '****-****';
/** Wrong codes accepted from one address per window before the page answers 429. */
export const DEVICE_CODE_FAILURES = 10;
export const DEVICE_CODE_WINDOW_SECONDS = 15 * 60;

export interface DeviceFlowDeps {
  readonly storage: Storage;
  readonly identity: Pick<Identity, 'findById'>;
  readonly policy: Pick<ScopePolicy, 'withDefaults' | 'resourceScopes'>;
  readonly replay: ReplayCache;
  /** Display name of a client (the consent page's rule). */
  readonly clientName: (clientId: string) => Promise<string>;
}

const throttleKey = (ip: string) => `device-code:ip:${ip}`;
const peerOf = (req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown';

/** oidc-provider `features.deviceFlow`. */
export function deviceFlowFeature(deps: DeviceFlowDeps) {
  const language = (ctx: KoaContextWithOIDC) => {
    const lang = langOf(ctx.req);
    return { lang, switchHref: switchHref(ctx.req, lang) };
  };
  const send = (ctx: KoaContextWithOIDC, document: string, status?: number) => {
    setPageHeaders(ctx.res);
    if (status !== undefined) ctx.status = status;
    ctx.type = 'html';
    ctx.set('Content-Language', langOf(ctx.req));
    ctx.body = document;
  };
  const selfAsserted = async (clientId: string) => {
    const stored = await deps.storage.find('Client', clientId);
    return !(stored?.sekisho as { operator?: boolean } | undefined)?.operator;
  };

  return {
    enabled: true,
    charset: DEVICE_CODE_CHARSET,
    mask: DEVICE_CODE_MASK,
    deviceInfo: (ctx: KoaContextWithOIDC) => ({
      ip: peerOf(ctx.req),
      ua: ctx.get('user-agent').slice(0, 200) || undefined,
    }),
    async userCodeInputSource(ctx: KoaContextWithOIDC, _form: string, _out: unknown, err?: Error) {
      const problem = problemOf(err);
      if (problem === 'wrong_code' || problem === 'expired' || problem === 'used') {
        await deps.storage.hit(throttleKey(peerOf(ctx.req)), DEVICE_CODE_WINDOW_SECONDS);
      }
      const denied = err?.name === 'AbortedError';
      send(
        ctx,
        deviceCodeEntryPage({
          ...language(ctx),
          action: ctx.oidc.urlFor('code_verification'),
          xsrf: String(ctx.oidc.session?.state?.secret ?? ''),
          problem: denied ? undefined : problem,
          denied,
          mask: DEVICE_CODE_MASK,
        }),
        denied ? 200 : err && problem !== 'failed' ? 400 : undefined,
      );
    },
    async userCodeConfirmSource(
      ctx: KoaContextWithOIDC,
      _form: string,
      client: { clientId: string },
      deviceInfo: { ip?: string; ua?: string } | undefined,
      userCode: string,
    ) {
      const code = ctx.oidc.entities.DeviceCode as unknown as { params?: { scope?: string } } | undefined;
      const accountId = ctx.oidc.session?.accountId;
      const user = accountId ? await deps.identity.findById(accountId) : undefined;
      const requested = deps.policy.withDefaults(code?.params?.scope).split(' ');
      const known = new Set(deps.policy.resourceScopes);
      send(
        ctx,
        deviceConfirmPage({
          ...language(ctx),
          action: ctx.oidc.urlFor('code_verification'),
          xsrf: String(ctx.oidc.session?.state?.secret ?? ''),
          userCode,
          clientName: await deps.clientName(client.clientId),
          selfAsserted: await selfAsserted(client.clientId),
          scopes: requested.filter((s) => known.has(s) || s === 'profile' || s === 'email'),
          user: user ? { name: user.name, username: user.username } : undefined,
          device: { ip: deviceInfo?.ip, userAgent: deviceInfo?.ua },
        }),
      );
    },
    async successSource(ctx: KoaContextWithOIDC) {
      const clientId = ctx.oidc.client?.clientId ?? '';
      send(ctx, deviceDonePage({ ...language(ctx), clientName: await deps.clientName(clientId) }));
    },
  };
}

function problemOf(err: Error | undefined): DeviceProblem | undefined {
  if (!err) return undefined;
  switch (err.name) {
    case 'NoCodeError':
    case 'NotFoundError':
      return 'wrong_code';
    case 'ExpiredError':
      return 'expired';
    case 'AlreadyUsedError':
      return 'used';
    default:
      return 'failed';
  }
}

/**
 * Koa middleware for the provider: refuses code entry from an address over its wrong-code budget
 * (before oidc-provider looks the code up), and adds `interval` to the device authorization response.
 */
export function deviceFlowMiddleware(deps: {
  readonly limits: Pick<RateLimitStore, 'peek'>;
  /** The session cookie's name: a code-entry form always comes from a page that set it. */
  readonly sessionCookie: string;
  /** RFC 8628 §3.2 `interval` (the RFC's default is 5). */
  readonly intervalSeconds: number;
}) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.method === 'POST' && ctx.path === OAUTH_ROUTES.code_verification) {
      if (!ctx.cookies.get(deps.sessionCookie)) {
        // No session means no CSRF value to check against (a forged or stale form). oidc-provider
        // would fail on it with a 500; answer as every other page does to a form it did not issue.
        const lang = langOf(ctx.req);
        setPageHeaders(ctx.res);
        ctx.status = 403;
        ctx.type = 'html';
        ctx.body = forbiddenPage(lang, switchHref(ctx.req, lang));
        return;
      }
      const failures = await deps.limits.peek(throttleKey(peerOf(ctx.req)), DEVICE_CODE_WINDOW_SECONDS);
      if (failures >= DEVICE_CODE_FAILURES) {
        const lang = langOf(ctx.req);
        setPageHeaders(ctx.res);
        ctx.status = 429;
        ctx.set('Retry-After', String(secondsUntilWindowEnds(DEVICE_CODE_WINDOW_SECONDS, Date.now())));
        ctx.type = 'html';
        ctx.body = deviceCodeEntryPage({
          lang,
          switchHref: switchHref(ctx.req, lang),
          action: OAUTH_ROUTES.code_verification,
          xsrf: '',
          problem: 'throttled',
          mask: DEVICE_CODE_MASK,
        });
        return;
      }
    }
    await next();
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && isRecord(ctx.body)) {
      ctx.body.interval = deps.intervalSeconds;
    }
  };
}

/**
 * `slow_down`: oidc-provider's device_code grant loads the code with `DeviceCode.find`; a poll of a
 * still-pending code within `interval` seconds of the previous one is refused before anything else.
 */
export function enforceDevicePollInterval(
  provider: Provider,
  replay: ReplayCache,
  intervalSeconds: number,
): void {
  const model = provider.DeviceCode as unknown as {
    find(value: string, options?: object): Promise<DeviceCodeLike | undefined>;
  };
  const find = model.find.bind(model);
  model.find = async (value, options) => {
    const code = await find(value, options);
    const ctx = Provider.ctx;
    const polling = ctx?.oidc?.route === 'token' && ctx.oidc.params?.grant_type === DEVICE_CODE_GRANT;
    if (code && polling && !code.accountId && !code.error && !code.isExpired) {
      const first = await replay.remember(`device-poll:${hashTokenId(value)}`, intervalSeconds);
      if (!first) throw new errors.SlowDown();
    }
    return code;
  };
}

interface DeviceCodeLike {
  accountId?: string;
  error?: string;
  isExpired?: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
