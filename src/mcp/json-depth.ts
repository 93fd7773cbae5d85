/**
 * The nesting cap for JSON bodies on /mcp, checked right after parsing on every path (the Express
 * JSON parser in `http/app.ts`, and the fast lane) — before anything walks the value recursively.
 * Without it a body of a few kilobytes (`[[[[…]]]]` 5,000 levels deep) parses fine but overflows
 * the stack wherever it is later re-serialised or validated (the SDK's `JSON.stringify`, zod).
 *
 * 64 levels: a JSON-RPC request spends 3 on its envelope (`params.arguments`), which leaves 61 for
 * tool arguments — far beyond any real schema, far below where recursion gets dangerous.
 */
export const MAX_JSON_DEPTH = 64;

/** The JSON-RPC error a body nested deeper than the cap gets: 400, -32600, on every path. */
export const JSON_TOO_DEEP = {
  status: 400,
  code: -32600,
  message: `Invalid request: JSON nested deeper than ${MAX_JSON_DEPTH} levels.`,
} as const;

/**
 * True when `value` nests objects/arrays deeper than `max` levels (a bare object is 1). Iterative,
 * so the check itself cannot overflow, and it stops at the first path that goes too deep.
 */
export function exceedsJsonDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
