/**
 * One pino line per request with method, path, status and duration — and never a credential: the
 * Authorization header, a query string (codes, state) or a body must not reach the log.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../src/observability/logger.ts';
import { send } from '../../helpers/http.ts';
import { modernPost } from '../../helpers/mcp-http.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const SECRET = 'secret-xyz';
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_ANONYMOUS: '1' }, { logger: createLogger('info', sink) });
});
after(() => srv.close());

interface RequestLine {
  msg: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  oauth_error?: string;
  oauth_endpoint?: string;
}

function requestLines(): RequestLine[] {
  return lines.map((l) => JSON.parse(l) as RequestLine).filter((l) => l.msg === 'request');
}

/** The log line is written on 'finish', which can trail the client's read by a tick. */
async function waitForRequestLines(count: number): Promise<RequestLine[]> {
  for (let i = 0; i < 100; i++) {
    const found = requestLines();
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return requestLines();
}

describe('request log', () => {
  it('writes one line per request with method, path, status and ms, and no secrets', async () => {
    const before = requestLines().length;
    const health = await send(`${srv.url}/healthz`, { headers: { authorization: `Bearer ${SECRET}` } });
    const mcp = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'hello_world', arguments: { name: 'Logger' } },
      { headers: { authorization: `Bearer ${SECRET}`, cookie: `session=${SECRET}` } },
    );
    const missing = await send(`${srv.url}/oauth/callback?code=${SECRET}&state=${SECRET}`);

    const logged = (await waitForRequestLines(before + 3)).slice(before);
    assert.equal(logged.length, 3, `exactly one line per request:\n${lines.join('\n')}`);
    assert.deepEqual(
      logged.map(({ method, path, status }) => ({ method, path, status })),
      [
        { method: 'GET', path: '/healthz', status: health.status },
        { method: 'POST', path: '/mcp', status: mcp.status },
        { method: 'GET', path: '/oauth/callback', status: missing.status },
      ],
    );
    assert.equal(health.status, 200);
    for (const line of logged) {
      assert.equal(typeof line.ms, 'number');
      assert.ok(line.ms >= 0 && line.ms < 10_000, `plausible duration: ${line.ms}`);
    }
    const all = lines.join('\n');
    assert.ok(!all.includes(SECRET), 'the secret never appears in the log output');
    assert.ok(!/authorization/i.test(all), 'no Authorization header in the log');
  });

  it('names the OAuth error code of failed token, registration, revocation and introspection requests (issue 9)', async () => {
    const form = (body: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    const before = requestLines().length;
    const answers = [
      await fetch(
        `${srv.url}/oauth/token`,
        form({ grant_type: 'refresh_token', refresh_token: SECRET, client_id: 'nobody' }),
      ),
      await fetch(`${srv.url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [`https://${SECRET}.example/cb`], grant_types: ['implicit'] }),
      }),
      await fetch(`${srv.url}/oauth/token/revocation`, form({ token: SECRET, client_id: 'nobody' })),
      await fetch(`${srv.url}/oauth/token/introspection`, form({ token: SECRET, client_id: 'nobody' })),
    ];
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ error: string }>));
    const found = (await waitForRequestLines(before + 4)).slice(before);
    assert.deepEqual(
      found.map((l) => [l.path, l.status, l.oauth_endpoint, l.oauth_error]),
      [
        ['/oauth/token', answers[0]!.status, 'grant', bodies[0]!.error],
        ['/oauth/register', answers[1]!.status, 'registration_create', bodies[1]!.error],
        ['/oauth/token/revocation', answers[2]!.status, 'revocation', bodies[2]!.error],
        ['/oauth/token/introspection', answers[3]!.status, 'introspection', bodies[3]!.error],
      ],
    );
    for (const l of found) assert.ok(l.status >= 400 && typeof l.oauth_error === 'string', JSON.stringify(l));
    assert.ok(!lines.some((l) => l.includes(SECRET)), 'no secret in any line');
  });
});
