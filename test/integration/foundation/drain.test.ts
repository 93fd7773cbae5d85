/**
 * Graceful drain inside one process: once close() starts, new connections are refused, a request
 * already in flight still completes, and /readyz reports 503 "draining" to anything still asking on
 * an open connection (the signal a load balancer uses to stop routing here).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { modernEnvelope } from '../../helpers/mcp-http.ts';
import { startTestServer } from '../../helpers/server.ts';

function readUntil(socket: Socket, done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out; got so far:\n${text}`)), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve(text);
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (done(text)) finish();
    });
    socket.on('end', finish);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe('graceful drain', () => {
  it('finishes the in-flight request, refuses new connections and answers /readyz 503 while draining', async () => {
    const srv = await startTestServer({ SEKISHO_ANONYMOUS: '1' });
    const socket = connect(srv.port, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'hello_world', arguments: { name: 'Drain' }, _meta: modernEnvelope() },
      });
      const head = [
        'POST /mcp HTTP/1.1',
        `Host: localhost:${srv.port}`,
        'Content-Type: application/json',
        'Accept: application/json, text/event-stream',
        'MCP-Protocol-Version: 2026-07-28',
        'Mcp-Method: tools/call',
        'Mcp-Name: hello_world',
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        '',
      ].join('\r\n');
      const reply = readUntil(socket, (t) => t.includes('"status":"draining"'));
      // Start the request but hold back half the body: it is now in flight.
      const half = Math.floor(body.length / 2);
      socket.write(head + body.slice(0, half));
      await new Promise((resolve) => setTimeout(resolve, 100));

      const closing = srv.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await assert.rejects(fetch(`${srv.loopbackUrl}/healthz`), 'new connections are refused while draining');

      // Finish the in-flight request and pipeline a readiness probe behind it on the same connection.
      socket.write(`${body.slice(half)}GET /readyz HTTP/1.1\r\nHost: localhost:${srv.port}\r\n\r\n`);
      const text = await reply;
      // Not anchored to a line start: a Content-Length body is followed directly by the next status line.
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      assert.deepEqual(statuses, [200, 503]);
      assert.match(text, /Hello, Drain!/);
      assert.match(text, /\{"status":"draining"\}/);
      socket.end();
      await closing;
    } finally {
      socket.destroy();
      await srv.close();
    }
  });
});
