/**
 * A plain node:http client for tests that need what fetch will not do: set the Host header, send
 * a body larger than the server accepts (and still read the early 413), or keep exact control of
 * the headers. Responses are buffered; `json` is the parsed body when it is JSON.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes.
  readonly json: any;
}

export interface RawRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Abort if no response arrives in time (default 10 s). */
  readonly timeoutMs?: number;
}

export function send(url: string, req: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const r = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method ?? (req.body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}),
          ...req.headers,
        },
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no response from ${url} in time`)));
    // A server that refuses a large body answers early and may close the socket while we still
    // write: that is the behaviour under test, so only fail when no answer arrived at all.
    r.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}
