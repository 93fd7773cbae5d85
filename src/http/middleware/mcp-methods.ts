/**
 * Which HTTP methods reach the MCP endpoint. POST carries every message; GET and DELETE belong to
 * the 2025 era's streams and sessions, and the SDK answers them (405 while Sekisho serves that era
 * statelessly); OPTIONS is the CORS preflight (`mcp-cors.ts`). Anything else — TRACE, CONNECT, PUT,
 * PATCH, made-up methods — is answered 405 here, before the body is read or a token is checked:
 * left to the SDK, TRACE and CONNECT fail while it builds a Web `Request` (undici forbids them) and
 * become 500s. The answer is the SDK's own 405, so every refused method looks the same.
 */
import type { RequestHandler } from 'express';

const SERVED = new Set(['POST', 'GET', 'DELETE', 'OPTIONS']);

export function mcpMethods(): RequestHandler {
  return (req, res, next) => {
    if (SERVED.has(req.method)) return next();
    res.setHeader('Allow', 'POST');
    res
      .status(405)
      .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  };
}
