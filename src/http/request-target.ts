/**
 * Absolute-form request targets (`GET http://host/mcp HTTP/1.1`, RFC 9112 §3.2.2) made ordinary.
 * Servers must accept them, and then the target's authority is the host the request is for — the
 * Host header is ignored. Node hands the form to the application as it is (`req.url` =
 * `http://host/mcp`), which routing reads as a path and the MCP SDK turns into an invalid URL (a 500).
 * Here the target becomes origin-form and the authority becomes the Host header, so every route —
 * and the Host guard (DNS rebinding) — sees the request as it would in origin-form. A target that is
 * not a valid http(s) URL is a 400.
 */
import type { RequestListener } from 'node:http';

export function originFormTargets(listener: RequestListener): RequestListener {
  return (req, res) => {
    const target = req.url ?? '/';
    if (target.startsWith('/') || target === '*') return listener(req, res);
    const url = URL.parse(target);
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.host) {
      res.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"error":"invalid_request","error_description":"Malformed request target."}');
      return;
    }
    req.url = `${url.pathname}${url.search}`;
    req.headers.host = url.host;
    listener(req, res);
  };
}
