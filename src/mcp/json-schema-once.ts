/**
 * Tool input schemas whose JSON Schema is computed once per process instead of once per request.
 *
 * The SDK converts every registered tool's zod schema to JSON Schema through the schema's Standard
 * JSON Schema hook (`~standard.jsonSchema.input`) — on `tools/list`, and on `tools/call` to look for
 * `x-mcp-header` declarations — and since a fresh McpServer is built per request (CVE-2026-25536),
 * that conversion ran on every request for every visible tool. This wrapper keeps zod's own
 * validation and memoises the conversion per (schema, direction, target). The JSON Schema is
 * frozen, so a shared value cannot be altered by one request and seen by another.
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type { z } from 'zod';

const wrapped = new WeakMap<z.ZodType, StandardSchemaWithJSON>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function jsonSchemaOnce(schema: z.ZodType): StandardSchemaWithJSON {
  const known = wrapped.get(schema);
  if (known) return known;
  const std = schema['~standard'] as unknown as StandardSchemaWithJSON['~standard'];
  const memo = new Map<string, Record<string, unknown>>();
  const convert =
    (io: 'input' | 'output') =>
    (options: Parameters<StandardSchemaWithJSON['~standard']['jsonSchema']['input']>[0]) => {
      const key = `${io}|${options.target}|${JSON.stringify(options.libraryOptions ?? null)}`;
      let json = memo.get(key);
      if (json === undefined) {
        json = deepFreeze(std.jsonSchema[io](options));
        memo.set(key, json);
      }
      return json;
    };
  const result: StandardSchemaWithJSON = {
    '~standard': {
      version: 1,
      vendor: std.vendor,
      validate: (value) => std.validate(value),
      jsonSchema: { input: convert('input'), output: convert('output') },
    },
  };
  wrapped.set(schema, result);
  return result;
}
