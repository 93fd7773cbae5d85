/**
 * The HTTP requests the scenarios send, in both protocol eras, built once per scenario (only the
 * token or the JSON-RPC id varies per request). Shapes follow the 2026-07-28 Streamable HTTP rules:
 * `_meta` envelope plus `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers; the legacy
 * era sends a 2025-06-18 POST with no `initialize` (stateless servers answer it directly).
 */
import type { HttpRequestSpec } from './load.ts';

export const MODERN = '2026-07-28';
export const LEGACY = '2025-06-18';

export type Era = 'modern' | 'legacy';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'sekisho-bench', version: '1.0.0' },
};

export interface McpCall {
  readonly era: Era;
  readonly method: 'tools/call' | 'tools/list';
  readonly tool?: string;
  readonly args?: Record<string, unknown>;
}

/** Body and headers (without Authorization) for one MCP request. */
export function mcpRequest(call: McpCall, path = '/mcp', id: number | string = 1): HttpRequestSpec {
  const params: Record<string, unknown> =
    call.method === 'tools/call' ? { name: call.tool, arguments: call.args ?? {} } : {};
  if (call.era === 'modern') params._meta = ENVELOPE;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': call.era === 'modern' ? MODERN : LEGACY,
  };
  if (call.era === 'modern') {
    headers['mcp-method'] = call.method;
    if (call.tool !== undefined) headers['mcp-name'] = call.tool;
  }
  return {
    method: 'POST',
    path,
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id, method: call.method, params }),
  };
}

export function withBearer(spec: HttpRequestSpec, token: string | undefined): HttpRequestSpec {
  if (token === undefined) return spec;
  return { ...spec, headers: { ...spec.headers, authorization: `Bearer ${token}` } };
}

/** A request builder that rotates through `tokens` (one distinct token per request, round robin). */
export function rotatingBearer(
  spec: HttpRequestSpec,
  tokens: readonly string[],
): HttpRequestSpec | (() => HttpRequestSpec) {
  // A constant request is built once by the load generator; a function is rebuilt per request.
  if (tokens.length <= 1) return withBearer(spec, tokens[0]);
  let i = 0;
  return () => withBearer(spec, tokens[i++ % tokens.length]);
}

/** Extracts the JSON-RPC message from a JSON or single-event SSE response body. */
export function parseMcpBody(contentType: string | null, text: string): unknown {
  if (contentType?.startsWith('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trim())
      .pop();
    return data === undefined ? undefined : JSON.parse(data);
  }
  return JSON.parse(text);
}

/**
 * Opens a 2025-era session as a client does — `initialize`, then `notifications/initialized` — and
 * returns its `Mcp-Session-Id`. Outside the timed section.
 */
export async function openLegacySession(baseUrl: string, token: string | undefined): Promise<string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(token !== undefined && { authorization: `Bearer ${token}` }),
  };
  const init = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: LEGACY,
        capabilities: {},
        clientInfo: { name: 'sekisho-bench', version: '1.0.0' },
      },
    }),
  });
  const sessionId = init.headers.get('mcp-session-id');
  await init.text();
  if (init.status !== 200 || !sessionId)
    throw new Error(`initialize answered ${init.status} without a session`);
  const inSession = { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY };
  const ack = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: inSession,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await ack.text();
  if (ack.status !== 202) throw new Error(`notifications/initialized answered ${ack.status}`);
  return sessionId;
}

/** Requests that rotate through open sessions, each with the token its session was opened with. */
export function inSessions(
  spec: HttpRequestSpec,
  sessions: readonly { readonly sessionId: string; readonly token: string | undefined }[],
): () => HttpRequestSpec {
  let i = 0;
  return () => {
    const { sessionId, token } = sessions[i++ % sessions.length]!;
    return withBearer({ ...spec, headers: { ...spec.headers, 'mcp-session-id': sessionId } }, token);
  };
}
