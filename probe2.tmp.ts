import { connect } from 'node:net';
import { startTestServer } from './test/helpers/server.ts';

const srv = await startTestServer({ SEKISHO_ANONYMOUS: '1', SEKISHO_DEMO: '1' });
function raw(method: string, path: string, size: number, ct?: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(srv.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
    });
    s.on('error', (e) => resolve(`ERR ${(e as any).code} after ${got.slice(0, 15)}`));
    s.on('close', () => resolve(got.split('\r\n')[0] ?? 'EMPTY'));
    s.write(
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Length: ${size}\r\n${ct ? `Content-Type: ${ct}\r\n` : ''}${process.env.CLOSE ? 'Connection: close\r\n' : ''}\r\n`,
    );
    const chunk = Buffer.alloc(65536, 120);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const c = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += c.length;
        if (!s.write(c)) return s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
}
for (const [m, p, ct] of [
  ['GET', '/mcp'],
  ['GET', '/mcp', 'application/json'],
  ['GET', '/healthz'],
  ['GET', '/oauth/jwks'],
  ['GET', '/account'],
  ['GET', '/.well-known/oauth-protected-resource'],
  ['GET', '/nothing'],
  ['POST', '/mcp', 'application/json'],
  ['TRACE', '/mcp'],
  ['GET', '/interaction/x'],
  ['POST', '/account/login', 'application/x-www-form-urlencoded'],
  ['POST', '/oauth/token', 'application/x-www-form-urlencoded'],
  ['GET', '/.well-known/openid-configuration'],
] as [string, string, string?][]) {
  const res: Record<string, number> = {};
  for (let i = 0; i < 8; i++) {
    const r = await raw(m, p, 3_000_000, ct);
    res[r] = (res[r] ?? 0) + 1;
  }
  console.log(m, p, ct ?? '', JSON.stringify(res));
}
await srv.close();
