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

export async function legacyPost(
  mcpUrl: string,
  message: Record<string, unknown>,
  opts: PostOptions = {},
): Promise<McpHttpResponse> {
  const headers = { ...BASE_HEADERS, 'mcp-protocol-version': LEGACY_VERSION, ...opts.headers };
  return rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', ...message }), headers);
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
