/**
 * CORS for /mcp, so browser-based MCP clients (MCP Inspector in direct mode, web apps) can call the
 * endpoint and — crucially — read the `WWW-Authenticate` challenge that starts OAuth. It runs after
 * the Origin guard, so any Origin that reaches it is one the operator allowed; the allowed origin is
 * echoed (never `*`), and preflights are answered here, before the bearer gate, because browsers
 * send them without credentials.
 */
import type { RequestHandler } from 'express';

const ALLOW_METHODS = 'POST, GET, DELETE, OPTIONS';
const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'MCP-Protocol-Version',
  'Mcp-Method',
  'Mcp-Name',
  'Mcp-Session-Id',
  'Last-Event-ID',
  'DPoP',
].join(', ');
const EXPOSE_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, DPoP-Nonce';

export function mcpCors(): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.vary('Origin');
    res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
