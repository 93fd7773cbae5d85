/**
 * Which requests the fast lane may answer: a deliberately narrow, strictly checked subset of what
 * the SDK serves. Anything outside it — another method, an unusual header or `_meta` key, a
 * pagination cursor, a task-augmented call, a batch, a notification, a version we have not proven
 * identical — returns `undefined` and goes through the SDK, which answers it (or rejects it) itself.
 * The era decision and `_meta` envelope validation are the SDK's own (`classifyInboundRequest`); the
 * checks added here only ever narrow what the SDK would accept, never widen it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  classifyInboundRequest,
  type InboundClassificationOutcome,
  PROTOCOL_VERSION_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';

export const MODERN_VERSION = '2026-07-28';
/** Legacy revisions whose fast-lane answers are proven identical to the SDK's (test/mcp/fast-lane…). */
const LEGACY_VERSIONS = ['2025-06-18', '2025-11-25'].filter((v) => SUPPORTED_PROTOCOL_VERSIONS.includes(v));

export interface FastRequest {
  readonly era: 'modern' | 'legacy';
  readonly version: string;
  readonly id: string | number;
  readonly method: 'tools/call' | 'tools/list';
  /** tools/call only. */
  readonly tool?: string;
  /** tools/call only: the raw arguments (validated later against the tool's schema). */
  readonly args?: Record<string, unknown>;
}

const ENVELOPE_KEYS = new Set([
  PROTOCOL_VERSION_META_KEY,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value.trim() : undefined;
}

/** Both media types, as every conforming client sends (Streamable HTTP: "MUST include"). */
function acceptsBoth(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  return types.includes('application/json') && types.includes('text/event-stream');
}

/**
 * The SDK's classifier validates the whole JSON-RPC message and the `_meta` envelope with zod
 * (≈10 µs a request, the largest single cost on the lane). Within the lane's subset its verdict
 * depends only on the three routing headers, the method, the id's type, the tool name, the type of
 * `arguments` and the `_meta` object — never on argument values — and a client sends the same
 * envelope on every request. So verdicts are remembered by exactly those inputs (bounded, first in
 * first out): the same inputs always get the SDK's own answer, computed once. Only the verdict's
 * kind is read from a remembered route, never its `message` (which is the first request's body).
 */
const MEMO_MAX = 1024;
const MEMO_KEY_MAX = 2048;
const memo = new Map<string, InboundClassificationOutcome>();

function classifyMemo(
  versionHeader: string,
  methodHeader: string | undefined,
  nameHeader: string | undefined,
  body: Record<string, unknown>,
  params: Record<string, unknown> | undefined,
): InboundClassificationOutcome {
  const key = JSON.stringify([
    versionHeader,
    methodHeader ?? null,
    nameHeader ?? null,
    body.method,
    typeof body.id,
    params === undefined ? 'none' : typeof params.name === 'string' ? params.name : typeof params.name,
    params === undefined ? 'none' : typeof params.arguments,
    params === undefined || !('_meta' in params) ? 'none' : (params._meta ?? null),
  ]);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const route = classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: versionHeader,
    ...(methodHeader !== undefined && { mcpMethodHeader: methodHeader }),
    ...(nameHeader !== undefined && { mcpNameHeader: nameHeader }),
    body,
  });
  // Large envelopes are classified every time: the memo must stay small whatever clients send.
  if (key.length > MEMO_KEY_MAX) return route;
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value as string);
  memo.set(key, route);
  return route;
}

export function classifyFast(headers: IncomingHttpHeaders, body: unknown): FastRequest | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== '2.0') return undefined;
  const { id, method, params } = body;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) return undefined;
  if (method !== 'tools/call' && method !== 'tools/list') return undefined;
  if (params !== undefined && !isPlainObject(params)) return undefined;
  for (const key of Object.keys(body))
    if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return undefined;
  for (const key of Object.keys(params ?? {})) {
    if (key === '_meta') continue;
    if (method === 'tools/call' && (key === 'name' || key === 'arguments')) continue;
    return undefined; // cursor, task, anything else: the SDK decides
  }
  if (!acceptsBoth(single(headers.accept))) return undefined;

  const versionHeader = single(headers['mcp-protocol-version']);
  const methodHeader = single(headers['mcp-method']);
  const nameHeader = single(headers['mcp-name']);
  if (versionHeader === undefined) return undefined;
  const route = classifyMemo(versionHeader, methodHeader, nameHeader, body, params);
  const meta = params?._meta;
  let era: FastRequest['era'];
  if (route.kind === 'modern') {
    if (route.messageKind !== 'request' || versionHeader !== MODERN_VERSION) return undefined;
    if (!isPlainObject(meta) || meta[PROTOCOL_VERSION_META_KEY] !== MODERN_VERSION) return undefined;
    for (const key of Object.keys(meta)) if (!ENVELOPE_KEYS.has(key)) return undefined;
    // Standard headers must equal the body exactly (no sentinel encoding): Streamable HTTP 2026-07-28.
    if (methodHeader !== method) return undefined;
    era = 'modern';
  } else if (route.kind === 'legacy' && route.reason === 'no-claim') {
    if (!LEGACY_VERSIONS.includes(versionHeader)) return undefined;
    if (meta !== undefined) return undefined; // progress tokens and friends: the SDK's business
    era = 'legacy';
  } else {
    return undefined;
  }

  if (method === 'tools/list') return { era, version: versionHeader, id, method };
  const name = params?.name;
  const args = params?.arguments;
  if (typeof name !== 'string' || (args !== undefined && !isPlainObject(args))) return undefined;
  if (era === 'modern' && nameHeader !== name) return undefined;
  return { era, version: versionHeader, id, method, tool: name, args: args ?? {} };
}
