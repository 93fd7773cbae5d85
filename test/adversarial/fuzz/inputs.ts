/**
 * The raw material of hostile input: odd strings (control characters, bidi overrides, lone
 * surrogates, injection classics, very long ones), random and pathological JSON (deep, wide, huge,
 * odd numbers, prototype keys), and mutations of paths and texts (bad percent-escapes, traversal,
 * truncation, byte flips).
 */
import type { Rng } from './random.ts';

export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  '\u0007\u001b[31m',
  'Acme \u202Eelgoog',
  'zero\u200Bwidth\uFEFF',
  '\uD800',
  '\uDFFF\uD800',
  '😀🧪👩‍👩‍👧',
  'ｓｅｋｉｓｈｏ',
  '関所',
  '%00',
  '%ZZ',
  '%',
  '%C0%AF',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' OR '1'='1' --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the attack.
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x7fffffff',
  'true',
  'javascript:alert(1)',
  'http://127.0.0.1:1/',
  'https://example.invalid/client.json',
  'file:///etc/passwd',
  'demo',
  'admin',
  'openid',
  'mcp:tools',
  'S256',
  'plain',
];

const CODE_POINT_RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0x00, 0x1f],
  [0x80, 0x2ff],
  [0x3040, 0x30ff],
  [0x4e00, 0x4fff],
  [0x200b, 0x202e],
  [0xd800, 0xdfff], // lone surrogates
  [0xfff0, 0xffff],
  [0x1f600, 0x1f64f],
];

export function randomText(rng: Rng, maxLength = 40): string {
  const length = rng.int(0, maxLength);
  let out = '';
  for (let i = 0; i < length; i++) {
    const [lo, hi] = rng.pick(CODE_POINT_RANGES);
    out += String.fromCodePoint(rng.int(lo, hi));
  }
  return out;
}

export function oddString(rng: Rng): string {
  return rng.weighted<() => string>([
    [5, () => rng.pick(ODD_STRINGS)],
    [3, () => randomText(rng)],
    [0.5, () => 'A'.repeat(rng.pick([256, 4096]))],
    [0.05, () => 'A'.repeat(70_000)],
    [1, () => rng.pick(ODD_STRINGS) + randomText(rng, 8)],
  ])();
}

/** Any JSON value, nested up to `depth`. */
export function randomJson(rng: Rng, depth = 3): unknown {
  return rng.weighted<() => unknown>([
    [3, () => oddString(rng)],
    [2, () => rng.pick([0, -1, 1.5, 2 ** 53 + 1, -0, 1e308, Number.MAX_SAFE_INTEGER])],
    [1, () => rng.pick([true, false, null])],
    [depth > 0 ? 2 : 0, () => Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth - 1))],
    [
      depth > 0 ? 3 : 0,
      () => {
        const o: Record<string, unknown> = {};
        for (let i = rng.int(0, 4); i > 0; i--)
          o[rng.chance(0.7) ? oddString(rng).slice(0, 20) : 'name'] = randomJson(rng, depth - 1);
        return o;
      },
    ],
  ])();
}

/** JSON text nested `levels` deep: arrays, objects, or both, around an optional payload. */
export function deepJson(rng: Rng, levels: number, inner = '1'): string {
  const kind = rng.pick(['array', 'object', 'mixed'] as const);
  let open = '';
  let close = '';
  for (let i = 0; i < levels; i++) {
    const object = kind === 'object' || (kind === 'mixed' && i % 2 === 0);
    open += object ? '{"a":' : '[';
    close = (object ? '}' : ']') + close;
  }
  return open + inner + close;
}

/** A number literal JSON.parse accepts but code may not expect. */
export const ODD_NUMBERS = ['1e999', '-1e999', '1e-999', '123456789012345678901234567890', '-0', '0.1e1'];

export function mutateText(rng: Rng, text: string): string {
  if (text.length === 0) return oddString(rng);
  const at = rng.int(0, text.length);
  return rng.weighted<() => string>([
    [3, () => text.slice(0, at)], // truncated
    [2, () => text.slice(0, at) + oddString(rng).slice(0, 64) + text.slice(at)],
    [2, () => text.slice(0, at) + text.slice(at + rng.int(1, 8))],
    [1, () => text.replaceAll('"', rng.pick(["'", '', '\\"', '""']))],
    [1, () => text + text],
    [1, () => `\uFEFF${text}`],
    [1, () => text.replace(/\d+/, rng.pick(ODD_NUMBERS))],
    [1, () => text.replace(/"[^"]*"/, `"${'\\u'}${rng.pick(['D800', 'DFFF', '0000', 'ZZZZ', '12'])}"`)],
  ])();
}

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD) — encodeURIComponent throws on them. */
export function pct(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The UTF-8 bytes of `s` as a latin1 string: what may go on the wire in a header or a path. */
export function wireSafe(s: string): string {
  return Buffer.from(s, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

const PATH_TAILS = [
  '%ZZ',
  '%',
  '%2',
  '%00',
  '%C0%AF',
  '%2e%2e/%2e%2e/etc/passwd',
  '/../../../etc/passwd',
  '/./',
  '//',
  ';jsessionid=1',
  '%E2%80%AE',
  '%F0%9F%98%80',
  '%ED%A0%80',
  '%FF%FE',
  '.json',
  '/',
  '~',
  '%u0041',
];

export function mutatePath(rng: Rng, path: string): string {
  const [pathname = '/', query] = path.split('?', 2);
  const out = rng.weighted<() => string>([
    [4, () => `${pathname}${rng.pick(PATH_TAILS)}`],
    [2, () => `${pathname}/${rng.pick(PATH_TAILS)}`],
    [2, () => pathname.replace(/\/[^/]*$/, `/${rng.pick(PATH_TAILS)}`)],
    [1, () => `/${rng.pick(PATH_TAILS)}${pathname}`],
    [1, () => pathname.toUpperCase()],
    [0.5, () => `${pathname}/${'a'.repeat(rng.pick([300, 5000]))}`],
    [1, () => `${pathname}/${pct(oddString(rng).slice(0, 200))}`],
    [1, () => `${pathname}/${wireSafe(randomText(rng, 12)).replace(/[\s?#]/g, '')}`],
    [1, () => pathname.replaceAll('/', '//')],
  ])();
  const q = rng.chance(0.5) ? mutateQuery(rng, query ?? '') : query;
  return q ? `${out}?${q}` : out;
}

export function mutateQuery(rng: Rng, query: string): string {
  return rng.weighted<() => string>([
    [2, () => `${query}&${pct(oddString(rng).slice(0, 40))}=${pct(oddString(rng).slice(0, 200))}`],
    [
      2,
      () =>
        `${query}&${rng.pick(['a=%ZZ', '%ZZ=1', 'x=%', '=', '&&&', 'a[b][c]=1', '__proto__[x]=1', 'a=1&a=2'])}`,
    ],
    [0.3, () => Array.from({ length: rng.int(50, 2000) }, (_, i) => `p${i}=${i}`).join('&')],
    [1, () => query.replace(/=[^&]*/, `=${pct(oddString(rng).slice(0, 300))}`)],
    [1, () => ''],
  ])();
}
