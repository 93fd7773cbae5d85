/**
 * The OAuth API lane (src/oauth/api-lane.ts) must be invisible but for its cost:
 *  - which requests it takes: exactly the token, introspection, revocation and JWKS paths (any query),
 *    with a Host the guard allows; everything else — other paths, look-alikes, a refused Host — goes
 *    to the full pipeline untouched, and each request it takes gets its one log line and sample;
 *  - what clients see: two servers, identical but for SEKISHO_FAST_LANE, answer the same token,
 *    introspection, revocation and JWKS requests — good and bad — with the same status, the same
 *    protocol headers and the same OAuth error code.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { DEMO_USERS } from '../../src/identity/demo.ts';
import { oauthApiLane } from '../../src/oauth/api-lane.ts';
import { OAUTH_ROUTES } from '../../src/oauth/routes.ts';
import { send as rawSend } from '../helpers/http.ts';
import { signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('the OAuth API lane: which requests it takes', () => {
  function route(url: string, host = 'good.example') {
    const taken: string[] = [];
    const observed: [string, string, number][] = [];
    const res = new EventEmitter() as EventEmitter & { statusCode: number };
    res.statusCode = 200;
    const listener = oauthApiLane({
      handle: () => taken.push('provider'),
      hostAllowed: (h) => h === 'good.example',
      observe: (method, path, status) => observed.push([method, path, status]),
    })(() => taken.push('express'));
    listener(
      { url, method: 'POST', headers: { host } } as unknown as IncomingMessage,
      res as unknown as ServerResponse,
    );
    res.statusCode = 400;
    res.emit('finish');
    return { by: taken.join(','), observed };
  }

  it('takes the four API endpoints, with or without a query, and observes each once', () => {
    for (const path of [
      OAUTH_ROUTES.token,
      OAUTH_ROUTES.introspection,
      OAUTH_ROUTES.revocation,
      OAUTH_ROUTES.jwks,
    ]) {
      assert.deepEqual(route(path), { by: 'provider', observed: [['POST', path, 400]] }, path);
      // The query never reaches the log line (it may carry codes or state).
      assert.deepEqual(route(`${path}?code=secret`).observed, [['POST', path, 400]], `${path}?…`);
    }
  });

  it('leaves everything else to Express, which logs it itself', () => {
    for (const url of [
      OAUTH_ROUTES.authorization,
      OAUTH_ROUTES.registration,
      OAUTH_ROUTES.userinfo,
      OAUTH_ROUTES.device_authorization,
      '/oauth/token/',
      '/oauth/token%2F',
      '/OAUTH/TOKEN',
      '/oauth/tokens',
      '//oauth/token',
      'http://good.example/oauth/token', // absolute form: rewritten before, never seen here
      '/mcp',
      '',
    ]) {
      assert.deepEqual(route(url), { by: 'express', observed: [] }, url);
    }
  });

  it('a Host the guard refuses goes to Express, whose guard answers it', () => {
    assert.deepEqual(route(OAUTH_ROUTES.token, 'evil.example'), { by: 'express', observed: [] });
  });
});

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  error: unknown;
  keys: string[];
}

/** Headers a client acts on; Date and body-dependent lengths differ between any two answers. */
const COMPARED = [
  'content-type',
  'cache-control',
  'pragma',
  'www-authenticate',
  'allow',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'vary',
  'dpop-nonce',
];

async function send(
  srv: TestServer,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  const res = await rawSend(`${srv.url}${path}`, {
    method,
    body,
    headers: { host: `127.0.0.1:${srv.port}`, ...headers },
  });
  const picked: Record<string, string | undefined> = {};
  for (const h of COMPARED) {
    const v = res.headers[h];
    picked[h] = Array.isArray(v) ? v.join(', ') : v?.replace(/127\.0\.0\.1:\d+/g, 'HOST');
  }
  const json = res.json as Record<string, unknown> | undefined;
  return {
    status: res.status,
    headers: picked,
    error: json?.error,
    keys: json && typeof json === 'object' ? Object.keys(json).sort() : [],
  };
}

describe('the OAuth API lane: the same answers as the full pipeline', () => {
  let lane: TestServer;
  let full: TestServer;
  const demo = DEMO_USERS.find((u) => u.username === 'demo')!;
  /** A signed-in client on each server: its id and a fresh refresh and access token. */
  const sessions = new Map<TestServer, { clientId: string; refreshToken: string; accessToken: string }>();

  before(async () => {
    [lane, full] = await Promise.all([
      startTestServer({ SEKISHO_DEMO: '1', SEKISHO_FAST_LANE: '1' }),
      startTestServer({ SEKISHO_DEMO: '1', SEKISHO_FAST_LANE: '0' }),
    ]);
    for (const srv of [lane, full]) {
      const { client, tokens } = await signIn(srv.url, demo, { scope: 'mcp:tools offline_access' });
      assert.equal(tokens.status, 200);
      sessions.set(srv, {
        clientId: client.client_id,
        refreshToken: tokens.body.refresh_token,
        accessToken: tokens.body.access_token,
      });
    }
  });
  after(async () => {
    await Promise.all([lane?.close(), full?.close()]);
  });

  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  type Case = [
    name: string,
    method: string,
    path: string,
    body: (s: { clientId: string; refreshToken: string; accessToken: string }) => string | undefined,
    headers?: Record<string, string>,
  ];
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const cases: Case[] = [
    [
      'a refresh grant',
      'POST',
      OAUTH_ROUTES.token,
      (s) => form({ grant_type: 'refresh_token', refresh_token: s.refreshToken, client_id: s.clientId }),
      FORM,
    ],
    [
      'the same refresh token again (within the grace window)',
      'POST',
      OAUTH_ROUTES.token,
      (s) => form({ grant_type: 'refresh_token', refresh_token: s.refreshToken, client_id: s.clientId }),
      FORM,
    ],
    [
      'an unknown refresh token',
      'POST',
      OAUTH_ROUTES.token,
      (s) => form({ grant_type: 'refresh_token', refresh_token: 'nope', client_id: s.clientId }),
      FORM,
    ],
    ['no grant type', 'POST', OAUTH_ROUTES.token, (s) => form({ client_id: s.clientId }), FORM],
    [
      'an unsupported grant type',
      'POST',
      OAUTH_ROUTES.token,
      (s) => form({ grant_type: 'password', client_id: s.clientId }),
      FORM,
    ],
    [
      'a foreign resource',
      'POST',
      OAUTH_ROUTES.token,
      (s) =>
        form({
          grant_type: 'refresh_token',
          refresh_token: 'x',
          client_id: s.clientId,
          resource: 'https://elsewhere.example/mcp',
        }),
      FORM,
    ],
    [
      'an unknown client',
      'POST',
      OAUTH_ROUTES.token,
      () => form({ grant_type: 'refresh_token', client_id: 'ghost' }),
      FORM,
    ],
    [
      'a JSON body',
      'POST',
      OAUTH_ROUTES.token,
      () => '{"grant_type":"refresh_token"}',
      { 'content-type': 'application/json' },
    ],
    ['a malformed form', 'POST', OAUTH_ROUTES.token, () => '%%%&&&===', FORM],
    ['a repeated parameter', 'POST', OAUTH_ROUTES.token, () => 'grant_type=a&grant_type=b', FORM],
    ['GET on the token endpoint', 'GET', OAUTH_ROUTES.token, () => undefined],
    [
      'a query string on the token endpoint',
      'POST',
      `${OAUTH_ROUTES.token}?x=1`,
      () => form({ grant_type: 'x' }),
      FORM,
    ],
    [
      'a CORS preflight',
      'OPTIONS',
      OAUTH_ROUTES.token,
      () => undefined,
      { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' },
    ],
    [
      'a browser POST with an Origin',
      'POST',
      OAUTH_ROUTES.token,
      (s) => form({ grant_type: 'refresh_token', refresh_token: 'nope', client_id: s.clientId }),
      { ...FORM, origin: 'http://localhost:6274' },
    ],
    ['the JWKS', 'GET', OAUTH_ROUTES.jwks, () => undefined],
    ['HEAD on the JWKS', 'HEAD', OAUTH_ROUTES.jwks, () => undefined],
    [
      'introspection of our own access token',
      'POST',
      OAUTH_ROUTES.introspection,
      (s) => form({ token: s.accessToken, client_id: s.clientId }),
      FORM,
    ],
    [
      'introspection without a token',
      'POST',
      OAUTH_ROUTES.introspection,
      (s) => form({ client_id: s.clientId }),
      FORM,
    ],
    [
      'revocation of an unknown token',
      'POST',
      OAUTH_ROUTES.revocation,
      (s) => form({ token: 'nope', client_id: s.clientId }),
      FORM,
    ],
    ['revocation without a client', 'POST', OAUTH_ROUTES.revocation, () => form({ token: 'nope' }), FORM],
    [
      'a refused Host',
      'POST',
      OAUTH_ROUTES.token,
      () => form({ grant_type: 'x' }),
      { ...FORM, host: 'evil.example' },
    ],
  ];

  const answered = new Map<string, Answer>();
  for (const [name, method, path, body, headers = {}] of cases) {
    it(name, async () => {
      const viaLane = await send(lane, method, path, body(sessions.get(lane)!), headers);
      const viaFull = await send(full, method, path, body(sessions.get(full)!), headers);
      assert.deepEqual(viaLane, viaFull);
      answered.set(name, viaLane);
    });
  }

  it('the comparison is not vacuous: good requests succeeded, bad ones were refused', () => {
    assert.equal(answered.size, cases.length, 'every case ran');
    const status = (name: string) => answered.get(name)?.status;
    assert.equal(status('a refresh grant'), 200);
    assert.ok(answered.get('a refresh grant')!.keys.includes('refresh_token'));
    assert.equal(
      answered.get('the same refresh token again (within the grace window)')?.error,
      'invalid_grant',
    );
    assert.equal(answered.get('an unknown client')?.error, 'invalid_client');
    assert.equal(status('the JWKS'), 200);
    assert.ok(answered.get('the JWKS')!.keys.includes('keys'));
    assert.equal(status('a CORS preflight'), 204);
    assert.equal(status('revocation of an unknown token'), 200, 'RFC 7009 §2.2');
    assert.equal(status('a refused Host'), 403);
  });
});
