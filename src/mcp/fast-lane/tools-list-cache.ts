/**
 * tools/list results, produced by the SDK itself and remembered per (protocol version, anonymous or
 * signed in, visible tool set). A tools/list result is a pure function of which tools are registered
 * and whether the caller is anonymous — the per-request server factory registers exactly
 * `registry.visibleTo(caller)`, described by `describeFor` — so two callers who agree on both get
 * byte-identical results. The first request for a key is answered through the real SDK
 * handler (a fresh McpServer for that caller, as always); its result is kept and every later
 * request with that key is answered from it, without converting zod schemas to JSON Schema again.
 *
 * Nothing caller-specific is stored: the key is a list of tool names, and the value contains only
 * tool definitions. The cache is bounded (distinct visible sets are few: roles × scope sets).
 */
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';
import type { AnyTool } from '../../tools/define-tool.ts';
import type { FastRequest } from './classify.ts';

const MAX_ENTRIES = 256;

export interface ToolsListCache {
  /** The serialized `result` for this request, or undefined if the SDK did not answer 200. */
  get(
    request: FastRequest,
    visible: readonly AnyTool[],
    /** Whether the caller is anonymous: the same tools are described differently then (`describeFor`). */
    anonymous: boolean,
    headers: Readonly<Record<string, string>>,
    body: unknown,
    authInfo: AuthInfo | undefined,
  ): Promise<string | undefined>;
  readonly size: number;
}

export function createToolsListCache(handler: McpHttpHandler, url: string): ToolsListCache {
  const entries = new Map<string, string>();
  return {
    get size() {
      return entries.size;
    },
    async get(request, visible, anonymous, headers, body, authInfo) {
      const key = `${request.version}|${anonymous ? 'anonymous' : 'user'}|${visible.map((t) => t.name).join(',')}`;
      const hit = entries.get(key);
      if (hit !== undefined) return hit;
      const response = await handler.fetch(
        new Request(url, { method: 'POST', headers, body: JSON.stringify(body) }),
        authInfo === undefined ? undefined : { authInfo },
      );
      const text = await response.text();
      if (response.status !== 200) return undefined;
      const message = parseMessage(response.headers.get('content-type'), text);
      if (message?.result === undefined) return undefined;
      const result = JSON.stringify(message.result);
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      entries.set(key, result);
      return result;
    },
  };
}

function parseMessage(contentType: string | null, text: string): { result?: unknown } | undefined {
  try {
    if (contentType?.startsWith('text/event-stream')) {
      const data = text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim());
      return data.length === 1 ? JSON.parse(data[0]!) : undefined;
    }
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
