/** One request outside the load generator: preflight checks and credential exchanges. */
import { request as httpRequest } from 'node:http';
import type { HttpRequestSpec } from './load.ts';

/** Sends one request the way the load generator would, and returns status, content type and body. */
export function sendOnce(
  url: string,
  spec: HttpRequestSpec,
): Promise<{ status: number; type: string | null; text: string }> {
  // A fresh connection each time (agent: false): a pooled one may be closed by the server's
  // keep-alive timeout while a slow preparation runs, and the check would fail for no reason.
  const target = new URL(spec.path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      target,
      { method: spec.method, headers: spec.headers, agent: false, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? null, text }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.href} in 10 s`)));
    req.on('error', reject);
    req.end(spec.body);
  });
}
