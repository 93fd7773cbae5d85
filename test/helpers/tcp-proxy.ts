/**
 * A loopback TCP proxy a test can break on purpose: it forwards to a real server (PostgreSQL) until
 * told to `refuse` (every connection, open or new, is dropped at once — the database is down) or to
 * `blackhole` (connections are accepted and never answered — a dead network path), then `forward`
 * again. The shared PostgreSQL cannot be stopped; its proxy can.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  readonly url: (path: string) => string;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'refuse') return void client.destroy();
    if (mode === 'blackhole') return; // held open, never answered
    const upstream = createConnection(target);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    port,
    url: (path) => `postgres://postgres@127.0.0.1:${port}${path}`,
    setMode(next) {
      mode = next;
      dropAll(); // a change of mode cuts whatever was open, as an outage (or its end) would
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
