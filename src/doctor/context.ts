/** What the checks share: the target, the HTTP client, the findings so far, and what was learnt. */
import type { Findings } from './findings.ts';
import type { DoctorHttp, HttpResponse } from './http.ts';

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

export interface Learnt {
  /** The unauthenticated answer of the MCP endpoint. */
  probe?: HttpResponse;
  challenge?: Challenge;
  /** /mcp answered 2xx without a token. */
  anonymous?: boolean;
  /** The protected-resource metadata a client would use (header's, else path form, else root). */
  prm?: Record<string, unknown>;
  prmScopes?: readonly string[];
  /** PRM `authorization_servers[0]`, the issuer clients look up. */
  issuer?: string;
  /** The first AS metadata document a client finds for that issuer. */
  as?: Record<string, unknown>;
  /** Where that document was found. */
  asUrl?: string;
  /** Every response's Date header against local time (ms, positive = server ahead). */
  skews: number[];
}

export interface CheckContext {
  /** The MCP endpoint exactly as given (clients compare the PRM `resource` with it). */
  readonly url: URL;
  readonly resource: string;
  readonly http: DoctorHttp;
  readonly findings: Findings;
  readonly learnt: Learnt;
  /** Origin of the browser-based client to test CORS for (default: the Inspector's). */
  readonly browserOrigin: string;
  readonly dryRun: boolean;
}

export const MCP_ACCEPT = 'application/json, text/event-stream';

/** An `initialize` every client era understands (2025-era clients send it first; 2026 servers answer it). */
export const INITIALIZE_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'sekisho-doctor', version: '1' },
  },
});

/** Records the Date header's offset from local time, for the clock-skew check. */
export function noteDate(learnt: Learnt, response: HttpResponse): void {
  const date = Date.parse(response.headers.date ?? '');
  // Date has one-second resolution (truncated): half a second evens it out.
  if (Number.isFinite(date)) learnt.skews.push(date + 500 - response.receivedAt);
}

export function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** Parses `WWW-Authenticate: Bearer k="v", k2=v2` (the first challenge only). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const m of (match[2] ?? '').matchAll(re)) {
    const key = (m[1] ?? '').toLowerCase();
    if (!(key in params)) params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme: match[1] ?? '', params };
}

/** One line without control characters: server text must not move the terminal cursor or forge lines. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

/** Text from the server shown to a person: one line, bounded, no control characters. */
export function shown(text: string, max = 160): string {
  const clean = oneLine(text).trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** The base URL Sekisho should have for clients to use `url` (Sekisho serves MCP at `<base>/mcp`). */
export function suggestedBaseUrl(url: URL): string {
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path.endsWith('/mcp') ? path.slice(0, -'/mcp'.length) : path}`;
}
