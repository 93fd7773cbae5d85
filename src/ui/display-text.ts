/**
 * Text chosen by someone else (a client's `client_name`, its document's name) shown on our pages.
 * HTML escaping (html.ts) stops markup; this stops the text from lying about itself:
 *  - bidirectional overrides and isolates (U+202A–202E, U+2066–2069, and the marks U+200E/200F/061C)
 *    are removed: "Acme \u202Eelgoog" would otherwise render as "Acme google";
 *  - zero-width and invisible format characters (U+200B–200D, U+2060–2064, U+FEFF, soft hyphen,
 *    blank fillers) and control characters are removed, so two names that look the same are the
 *    same string;
 *  - runs of whitespace become one space, and the result is capped at `max` characters (code points,
 *    never splitting a surrogate pair) with an ellipsis, so a 15,000-character name cannot fill a page.
 */

// Control (Cc) and format (Cf: every bidi control, zero-width space/joiners, word joiner, BOM, soft
// hyphen…) characters, and the Hangul fillers that render as blank.
const INVISIBLE = /[\p{Cc}\p{Cf}\u115F\u1160\u3164\uFFA0]/gu;

export const DISPLAY_NAME_MAX = 100;

export function displayText(value: string, max = DISPLAY_NAME_MAX): string {
  const clean = value.replace(/\s+/g, ' ').replace(INVISIBLE, '').trim();
  const chars = Array.from(clean);
  return chars.length <= max
    ? clean
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}
