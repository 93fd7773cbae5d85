/**
 * Answering before the request body has been read — a 405, a 413 judged from Content-Length, a GET
 * that carries a body no route reads — must not turn into a connection reset. When Node is about to
 * close such a connection (the client sent `Connection: close`, or the answer says so), it closes
 * the socket with the rest of the body still arriving; the kernel then answers those bytes with a
 * TCP RST, and a client still writing its body loses the answer sitting in its receive buffer.
 *
 * RFC 9112 §9.6 describes the cure (the "lingering close"): keep reading and discarding what the
 * client sends after the answer, and close once the body has ended. This wrapper does that for any
 * answer that finishes before its request, for at most `maxDrainBytes` and `drainMs`; past either
 * bound the client is not finishing a body but streaming at us, and the socket is destroyed.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export interface DrainLimits {
  readonly maxDrainBytes: number;
  readonly drainMs: number;
}

/** Node's private flag, read when the answer finishes: true → close the socket right away. */
type ClosingResponse = ServerResponse & { _last?: boolean };

export function drainUnreadBodies(listener: RequestListener, limits: DrainLimits): RequestListener {
  return (req, res) => {
    if (hasBody(req)) res.once('prefinish', () => lingerIfUnread(req, res as ClosingResponse, limits));
    listener(req, res);
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function lingerIfUnread(req: IncomingMessage, res: ClosingResponse, limits: DrainLimits): void {
  if (req.complete || !res._last) return; // read to the end, or the connection stays open anyway
  const socket = req.socket;
  // Already gone: a long answer (an MCP session's SSE stream) can finish after the client left.
  if (!socket) return;
  // Keep the connection through Node's 'finish' handling (it will dump the rest of the body), and
  // close it ourselves once the body has ended.
  res._last = false;
  let drained = 0;
  const giveUp = setTimeout(() => socket.destroy(), limits.drainMs);
  giveUp.unref();
  const close = () => {
    clearTimeout(giveUp);
    socket.end();
  };
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limits.maxDrainBytes) socket.destroy();
  });
  req.once('end', close);
  req.once('error', () => socket.destroy());
  socket.once('close', () => clearTimeout(giveUp));
  req.resume();
}
