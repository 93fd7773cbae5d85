/**
 * Hand-built MCP HTTP requests, for tests that must see the exact status, headers and JSON-RPC error
 * a client library would hide. `modernPost` sends a 2026-07-28 request with a correct per-request
 * `_meta` envelope and routing headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) unless told
 * otherwise; `legacyPost` sends a 2025-era message.
 */

export const MODERN_VERSION = '2026-07-28';
export const LEGACY_VERSION = '2025-11-25';

export interface JsonRpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export interface McpHttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON-RPC message (the last `data:` frame for SSE responses); undefined if none. */
  readonly body:
    | { jsonrpc?: string; id?: unknown; result?: Record<string, unknown>; error?: JsonRpcError }
    | undefined;
  readonly text: string;
}

export interface PostOptions {
  /** Extra or overriding headers; a value of `null` removes a default header. */
  readonly headers?: Record<string, string | null>;
  readonly id?: number | string;
}

const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** Which params field names the request (the spec's Mcp-Name source), if any. */
export function mcpNameOf(method: string, params: Record<string, unknown>): string | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return params.name as string | undefined;
  if (method === 'resources/read') return params.uri as string | undefined;
  return undefined;
}

export function modernEnvelope(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'sekisho-tests', version: '0.0.0' },
  };
}

export async function modernPost(
  mcpUrl: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: PostOptions = {},
): Promise<McpHttpResponse> {
  const body = {
    jsonrpc: '2.0',
    id: opts.id ?? 1,
    method,
    params: { ...params, _meta: { ...modernEnvelope(), ...(params._meta as object | undefined) } },
  };
  const name = mcpNameOf(method, params);
  const headers: Record<string, string | null> = {
    ...BASE_HEADERS,
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
    ...(name !== undefined ? { 'mcp-name': name } : {}),
    ...opts.headers,
  };
  return rawPost(mcpUrl, JSON.stringify(body), headers);
}

/**
 * A 2025-era POST. Sekisho gives 2025-era clients sessions (unless SEKISHO_MCP_SESSIONS=0), so a
 * message other than `initialize` is sent inside a session, as a real client would: one is opened
 * first with the same headers (token, Origin, …) and ended afterwards. When opening it is refused
 * (bad token, bad Origin, stateless server…) the message is sent as given, so the test sees the
 * answer to its own request. `opts.headers['mcp-session-id']` (or `session: false`) sends as given.
 */
export async function legacyPost(
  mcpUrl: string,
  message: Record<string, unknown>,
  opts: PostOptions & { readonly session?: boolean } = {},
): Promise<McpHttpResponse> {
  const headers = { ...BASE_HEADERS, 'mcp-protocol-version': LEGACY_VERSION, ...opts.headers };
  const send = () => rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', ...message }), headers);
  if (message.method === 'initialize' || opts.session === false || 'mcp-session-id' in (opts.headers ?? {})) {
    return send();
  }
  const opened = await rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', ...legacyInitialize(0) }), headers);
  const session = opened.status === 200 ? opened.headers.get('mcp-session-id') : null;
  if (session === null) return send();
  const inSession = { ...headers, 'mcp-session-id': session };
  await rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), inSession);
  try {
    return await rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', ...message }), inSession);
  } finally {
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(inSession)) if (v !== null) clean[k] = v;
    await fetch(mcpUrl, { method: 'DELETE', headers: clean }).then((r) => r.text());
  }
}

/** The 2025-era `initialize` request body (send it with `legacyPost`). */
export function legacyInitialize(id: number | string = 1): Record<string, unknown> {
  return {
    id,
    method: 'initialize',
    params: {
      protocolVersion: LEGACY_VERSION,
      capabilities: {},
      clientInfo: { name: 'sekisho-tests', version: '0.0.0' },
    },
  };
}

/** POST any body with exactly these headers (null values dropped). Parses JSON or SSE answers. */
export async function rawPost(
  url: string,
  body: string,
  headers: Record<string, string | null> = BASE_HEADERS,
): Promise<McpHttpResponse> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== null) clean[k] = v;
  const res = await fetch(url, { method: 'POST', headers: clean, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: parseMessage(text), text };
}

function parseMessage(text: string): McpHttpResponse['body'] {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return undefined;
    }
  }
  // SSE: take the last `data:` frame that parses as a JSON-RPC response.
  const frames = trimmed
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim());
  for (let i = frames.length - 1; i >= 0; i--) {
    try {
      const parsed = JSON.parse(frames[i] as string);
      if ('result' in parsed || 'error' in parsed) return parsed;
    } catch {
      // not JSON: keep looking
    }
  }
  return undefined;
}
