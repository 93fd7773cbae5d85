/**
 * The refresh reference (f-refresh-ref, plain oidc-provider) beside Sekisho's refresh grant
 * (f-refresh): a seconds-long run of the real harness, and the token check that keeps either from
 * being timed while it answers errors or opaque tokens.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { runBench } from '../../bench/harness.ts';
import { goals } from '../../bench/report/goals.ts';
import { renderMarkdown } from '../../bench/report/markdown.ts';
import { expectTokens } from '../../bench/scenarios-token.ts';

test('f-refresh, f-refresh-ref and f-refresh-ref-sqlite answer real rotated tokens and are reported side by side', {
  timeout: 240_000,
}, async () => {
  const report = await runBench({
    rounds: 1,
    durationSec: 0.5,
    warmupSec: 0,
    connections: 4,
    refreshChains: 2,
    only: ['f-refresh', 'f-refresh-ref', 'f-refresh-ref-sqlite'],
    tokensPerScenario: 1,
    memory: false,
    coldStartRounds: 0,
    loginSeconds: 0,
  });
  assert.deepEqual(
    report.scenarios.map((s) => [s.id, s.connections]),
    [
      ['f-refresh', 2],
      ['f-refresh-ref', 2],
      ['f-refresh-ref-sqlite', 2],
    ],
  );
  for (const s of report.scenarios) {
    assert.equal(s.failures, 0, `${s.id} had failed requests`);
    // More refreshes than chains: the rotated tokens really went back into the pool.
    assert.ok(s.rounds[0]!.requests > 2, `${s.id} answered only ${s.rounds[0]!.requests} requests`);
  }
  const md = renderMarkdown(report);
  assert.match(md, /\| Sekisho \/ plain \| [\d.]+ % \|/);
  assert.match(md, /\| Sekisho \/ plain on the same adapter \| [\d.]+ % \|/);
  // The split of Sekisho's extra cost: the durable store, and everything else.
  assert.match(md, /the durable store \(hashed ids, atomic consume, SQLite rows\) is -?[\d,]+ µs/);
  const goal = goals(report).find((g) => g.goal.startsWith('refresh grants, Sekisho / plain'));
  assert.ok(goal, 'refresh goal row');
  assert.equal(goal.target, '≥ 85 %');
});

// The check every token scenario runs before it is measured: only a 200 with a rotated refresh
// token and an ES256 JWT for the resource passes.
const RESOURCE = 'http://127.0.0.1:1/mcp';
let answer: { status: number; body: unknown } = { status: 200, body: {} };
const server: Server = createServer((_req, res) => {
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(answer.body));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const spec = { method: 'POST' as const, path: '/oauth/token', headers: {}, body: '' };
const jwt = (header: object, payload: object) =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

test('the token check accepts an ES256 JWT for the resource with a new refresh token', async () => {
  answer = {
    status: 200,
    body: { access_token: jwt({ alg: 'ES256' }, { aud: RESOURCE }), refresh_token: 'next' },
  };
  assert.equal(await expectTokens(url, spec, RESOURCE), 'next');
});

test('the token check refuses error answers, opaque tokens, other algorithms and audiences', async () => {
  const refused: [string, { status: number; body: unknown }][] = [
    ['an error', { status: 400, body: { error: 'invalid_grant' } }],
    ['no refresh token', { status: 200, body: { access_token: jwt({ alg: 'ES256' }, { aud: RESOURCE }) } }],
    ['an opaque token', { status: 200, body: { access_token: 'opaque-token-value', refresh_token: 'r' } }],
    [
      'RS256',
      { status: 200, body: { access_token: jwt({ alg: 'RS256' }, { aud: RESOURCE }), refresh_token: 'r' } },
    ],
    [
      'another audience',
      {
        status: 200,
        body: { access_token: jwt({ alg: 'ES256' }, { aud: 'http://elsewhere/mcp' }), refresh_token: 'r' },
      },
    ],
  ];
  for (const [what, reply] of refused) {
    answer = reply;
    await assert.rejects(expectTokens(url, spec, RESOURCE), /token endpoint/, what);
  }
});
