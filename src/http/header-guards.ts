/**
 * The DNS-rebinding guards as predicates: the very SDK validators that the Express guards in
 * http/middleware/dns-rebinding.ts wrap (`hostHeaderValidation` and `originValidation` call
 * `validateHostHeader` / `validateOriginHeader` and answer 403 when they fail). The lanes in front of
 * Express (the MCP fast lane, the OAuth API lane) only need the yes/no: on "no" the request goes
 * through Express, whose guard answers it.
 *
 * Each validation parses a URL (≈10 µs a request under load, measured). The verdict is a pure
 * function of the header value and the configured allow-list, and clients repeat the same Host and
 * Origin on every request, so passing values are remembered — a few dozen at most (first in, first
 * out), so no client can grow the memo. Failing values are never remembered: they are rare and
 * always re-checked by Express anyway.
 */
import { validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';
import type { Config } from '../config/config.ts';

export type HeaderGuard = (value: string | undefined) => boolean;

const MAX_REMEMBERED = 64;

function remembering(check: (value: string | undefined) => boolean): HeaderGuard {
  const passed = new Set<string>();
  return (value) => {
    if (value !== undefined && passed.has(value)) return true;
    if (!check(value)) return false;
    if (value !== undefined && value.length <= 512) {
      if (passed.size >= MAX_REMEMBERED) passed.delete(passed.values().next().value as string);
      passed.add(value);
    }
    return true;
  };
}

export function hostAllowed(config: Pick<Config, 'allowedHosts'>): HeaderGuard {
  const allowed = [...config.allowedHosts];
  return remembering((host) => validateHostHeader(host, allowed).ok);
}

export function originAllowed(config: Pick<Config, 'allowedOrigins'>): HeaderGuard {
  const allowed = [...config.allowedOrigins];
  return remembering((origin) => validateOriginHeader(origin, allowed).ok);
}
