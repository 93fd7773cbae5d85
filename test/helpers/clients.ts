/**
 * Real MCP clients for tests, one per generation we promise to serve:
 *   - `connectV2`: the official v2 client (@modelcontextprotocol/client 2.4.0), either in `modern`
 *     mode (`versionNegotiation: { mode: 'auto' }` → 2026-07-28 via server/discover when the server
 *     offers it) or `legacy` mode (the plain 2025 `initialize` handshake);
 *   - `connectV1`: the v1 SDK client (@modelcontextprotocol/sdk 1.32.2), 2025-era only.
 * Both accept an auth provider (static bearer or full OAuth provider), extra headers and a custom
 * fetch, so the OAuth and resource-server tests reuse them unchanged.
 */
import {
  type AuthProvider,
  Client as ClientV2,
  type OAuthClientProvider as OAuthClientProviderV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import type { OAuthClientProvider as OAuthClientProviderV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const CLIENT_INFO = { name: 'sekisho-tests', version: '0.0.0' } as const;

type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface ConnectV2Options {
  readonly mode: 'modern' | 'legacy';
  /** A v2 auth provider: `{ token() }` for a static bearer, or a full OAuthClientProvider. */
  readonly authProvider?: AuthProvider | OAuthClientProviderV2;
  /** Extra headers on every request (e.g. `{ Origin: 'http://localhost' }`). */
  readonly headers?: Record<string, string>;
  readonly fetch?: FetchFn;
  /** Connect timeout in ms (default 10 s, so a hanging server fails the test quickly). */
  readonly timeoutMs?: number;
}

export interface ConnectedV2 {
  readonly client: ClientV2;
  readonly transport: TransportV2;
  /** `modern` (2026-07-28) or `legacy` (2025-era initialize), as negotiated. */
  readonly era: string | undefined;
  readonly protocolVersion: string | undefined;
  close(): Promise<void>;
}

export async function connectV2(mcpUrl: string, opts: ConnectV2Options): Promise<ConnectedV2> {
  const transport = new TransportV2(new URL(mcpUrl), {
    ...(opts.authProvider ? { authProvider: opts.authProvider } : {}),
    ...(opts.headers ? { requestInit: { headers: opts.headers } } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const client = new ClientV2(CLIENT_INFO, {
    capabilities: {},
    versionNegotiation: { mode: opts.mode === 'modern' ? 'auto' : 'legacy' },
  });
  await client.connect(transport, { timeout: opts.timeoutMs ?? 10_000 });
  return {
    client,
    transport,
    era: client.getProtocolEra(),
    protocolVersion: client.getNegotiatedProtocolVersion(),
    close: () => client.close(),
  };
}

export interface ConnectV1Options {
  /** A v1 OAuthClientProvider (the v1 transport has no static-token provider; use `headers`). */
  readonly authProvider?: OAuthClientProviderV1;
  readonly headers?: Record<string, string>;
  readonly fetch?: FetchFn;
  readonly timeoutMs?: number;
}

export interface ConnectedV1 {
  readonly client: ClientV1;
  readonly transport: TransportV1;
  readonly protocolVersion: string | undefined;
  close(): Promise<void>;
}

export async function connectV1(mcpUrl: string, opts: ConnectV1Options = {}): Promise<ConnectedV1> {
  const transport = new TransportV1(new URL(mcpUrl), {
    ...(opts.authProvider ? { authProvider: opts.authProvider } : {}),
    ...(opts.headers ? { requestInit: { headers: opts.headers } } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const client = new ClientV1(CLIENT_INFO, { capabilities: {} });
  await client.connect(transport, { timeout: opts.timeoutMs ?? 10_000 });
  return {
    client,
    transport,
    protocolVersion: transport.protocolVersion,
    close: () => client.close(),
  };
}

/** A v2 auth provider that always presents the same bearer token (no refresh, no OAuth flow). */
export function staticBearer(token: string): AuthProvider {
  return { token: async () => token };
}

/** The text of the first text block of a tool result (throws if there is none). */
export function firstText(result: object): string {
  const blocks = ((result as { content?: unknown }).content ?? []) as { type: string; text?: string }[];
  const block = blocks.find((b) => b.type === 'text');
  if (!block?.text) throw new Error(`no text content in ${JSON.stringify(result)}`);
  return block.text;
}
