/**
 * The wire form of a fast-lane answer, matching what the SDK sends for the same result:
 *  - 2026-07-28: `application/json`, the result stamped with `resultType: "complete"` and
 *    `_meta["io.modelcontextprotocol/serverInfo"]` (the SDK's encode contract, steps 1 and 3;
 *    tools/call results carry no cache fields);
 *  - 2025-era stateless POST: a single-event `text/event-stream` response with the SDK's headers.
 * The JSON-RPC message keeps the SDK's member order (`result`, `jsonrpc`, `id`).
 */
import { SERVER_INFO_META_KEY } from '@modelcontextprotocol/server';
import type { FastRequest } from './classify.ts';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const SSE_HEADERS = {
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'content-type': 'text/event-stream',
  'x-accel-buffering': 'no',
} as const;

/** Stamps a modern tools/call result the way the SDK's 2026-07-28 encoder does. */
export function stampModernCallResult(
  result: Record<string, unknown>,
  serverInfo: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const stamped = result.resultType === undefined ? { ...result, resultType: 'complete' } : result;
  const meta = stamped._meta;
  if (meta === undefined) return { ...stamped, _meta: { [SERVER_INFO_META_KEY]: serverInfo } };
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return stamped;
  if ((meta as Record<string, unknown>)[SERVER_INFO_META_KEY] !== undefined) return stamped;
  return { ...stamped, _meta: { ...meta, [SERVER_INFO_META_KEY]: serverInfo } };
}

/**
 * The same stamp on an already-serialized result, by appending to the JSON text when the result has
 * neither member (the usual case: no intermediate objects). Falls back to the object form otherwise.
 */
export function stampedModernJson(
  result: Record<string, unknown>,
  serverInfoTail: string,
  serverInfo: Readonly<Record<string, unknown>>,
): string {
  if (result.resultType !== undefined || result._meta !== undefined) {
    return JSON.stringify(stampModernCallResult(result, serverInfo));
  }
  const json = JSON.stringify(result);
  return json === '{}' ? `{${serverInfoTail.slice(1)}}` : `${json.slice(0, -1)}${serverInfoTail}}`;
}

/** `,"resultType":"complete","_meta":{…serverInfo}` — computed once per server. */
export function modernTail(serverInfo: Readonly<Record<string, unknown>>): string {
  return `,"resultType":"complete","_meta":${JSON.stringify({ [SERVER_INFO_META_KEY]: serverInfo })}`;
}

/** Wraps an already-serialized result for the request's era. */
export function reply(request: FastRequest, resultJson: string): Reply {
  const message = `{"result":${resultJson},"jsonrpc":"2.0","id":${JSON.stringify(request.id)}}`;
  if (request.era === 'modern') return { status: 200, headers: JSON_HEADERS, body: message };
  return { status: 200, headers: SSE_HEADERS, body: `event: message\ndata: ${message}\n\n` };
}
