/**
 * The real MCP clients, wired the way a host wires them for OAuth: the v2 client
 * (`@modelcontextprotocol/client` 2.4.0) in modern (`versionNegotiation: auto`) and legacy mode, and
 * the v1 client (`@modelcontextprotocol/sdk` 1.32.2, what MCP Inspector embeds). Each session keeps
 * its transport so the test can call `finishAuth` after the browser leg, and every HTTP exchange the
 * client makes is recorded (method, URL, status, and the token request's form) so tests can assert
 * the discovery sequence the client followed on its own.
 */
import {
  Client as ClientV2,
  type OAuthClientProvider as ProviderV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedV2,
} from '@modelcontextprotocol/client';
import {
  type OAuthClientProvider as ProviderV1,
  UnauthorizedError as UnauthorizedV1,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { MemoryOAuthProvider } from './oauth-provider.ts';

export type Flavor = 'v2-modern' | 'v2-legacy' | 'v1';
export const FLAVORS: readonly Flavor[] = ['v2-modern', 'v2-legacy', 'v1'];

export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The form body of a token request (grant_type, resource, …), if any. */
  readonly form?: URLSearchParams;
  readonly wwwAuthenticate?: string | null;
}

export interface ToolResult {
  readonly content?: { type: string; text?: string }[];
  readonly isError?: boolean;
  readonly structuredContent?: Record<string, unknown>;
}

export interface Session {
  readonly flavor: Flavor;
  /** 'modern' | 'legacy' as negotiated (v1 is always legacy). */
  readonly era: string | undefined;
  listTools(): Promise<string[]>;
  callTool(name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  close(): Promise<void>;
}

const INFO = { name: 'sekisho-e2e', version: '0.0.0' };

export function isUnauthorized(error: unknown): boolean {
  return error instanceof UnauthorizedV2 || error instanceof UnauthorizedV1;
}

/** A fetch that records every exchange into `log`. */
export function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const url = request.url;
    let form: URLSearchParams | undefined;
    if (
      typeof init?.body === 'string' &&
      request.headers.get('content-type')?.includes('x-www-form-urlencoded')
    ) {
      form = new URLSearchParams(init.body);
    } else if (init?.body instanceof URLSearchParams) {
      form = new URLSearchParams(init.body);
    }
    const response = await fetch(input as RequestInfo, init);
    log.push({
      method: request.method,
      url,
      status: response.status,
      ...(form ? { form } : {}),
      wwwAuthenticate: response.headers.get('www-authenticate'),
    });
    return response;
  };
}

function transportFor(flavor: Flavor, mcpUrl: string, provider: MemoryOAuthProvider, log: Exchange[]) {
  const fetchFn = recordingFetch(log);
  if (flavor === 'v1') {
    return new TransportV1(new URL(mcpUrl), {
      authProvider: provider as unknown as ProviderV1,
      fetch: fetchFn,
    });
  }
  return new TransportV2(new URL(mcpUrl), {
    authProvider: provider as unknown as ProviderV2,
    fetch: fetchFn,
  });
}

/** Connects; rejects with the client's UnauthorizedError when OAuth must run first. */
export async function connect(
  flavor: Flavor,
  mcpUrl: string,
  provider: MemoryOAuthProvider,
  log: Exchange[] = [],
): Promise<Session> {
  if (flavor === 'v1') {
    const transport = transportFor(flavor, mcpUrl, provider, log) as TransportV1;
    const client = new ClientV1(INFO, { capabilities: {} });
    await client.connect(transport, { timeout: 15_000 });
    return {
      flavor,
      era: 'legacy',
      listTools: async () => (await client.listTools()).tools.map((t) => t.name).sort(),
      callTool: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as ToolResult,
      close: () => client.close(),
    };
  }
  const transport = transportFor(flavor, mcpUrl, provider, log) as TransportV2;
  const client = new ClientV2(INFO, {
    capabilities: {},
    versionNegotiation: { mode: flavor === 'v2-modern' ? 'auto' : 'legacy' },
  });
  await client.connect(transport, { timeout: 15_000 });
  return {
    flavor,
    era: client.getProtocolEra(),
    listTools: async () => (await client.listTools()).tools.map((t) => t.name).sort(),
    callTool: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as ToolResult,
    close: () => client.close(),
  };
}

/** The host's half of the redirect: hand the callback to a transport, which redeems the code. */
export async function finishAuth(
  flavor: Flavor,
  mcpUrl: string,
  provider: MemoryOAuthProvider,
  callback: URL,
  log: Exchange[] = [],
): Promise<void> {
  provider.checkState(callback);
  const error = callback.searchParams.get('error');
  if (error)
    throw new Error(`authorization failed: ${error} ${callback.searchParams.get('error_description') ?? ''}`);
  if (flavor === 'v1') {
    const transport = transportFor(flavor, mcpUrl, provider, log) as TransportV1;
    await transport.finishAuth(callback.searchParams.get('code') ?? '');
    return;
  }
  const transport = transportFor(flavor, mcpUrl, provider, log) as TransportV2;
  await transport.finishAuth(callback.searchParams);
}

export function text(result: ToolResult): string {
  return result.content?.find((c) => c.type === 'text')?.text ?? '';
}
