import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { type Sekisho, startSekisho } from '../../src/server.ts';

const TOKEN = 'metrics-token-0123456789';

function start(extra: Record<string, string>): Promise<Sekisho> {
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    SEKISHO_LOG_LEVEL: 'silent',
    SEKISHO_DATA_DIR: mkdtempSync(join(tmpdir(), 'sekisho-metrics-')),
    ...extra,
  };
  return startSekisho(loadConfig(env));
}

describe('/metrics', () => {
  let withToken: Sekisho;
  let withoutToken: Sekisho;
  before(async () => {
    withToken = await start({ SEKISHO_METRICS_TOKEN: TOKEN });
    withoutToken = await start({});
  });
  after(async () => {
    await withToken.close();
    await withoutToken.close();
  });

  it('does not exist unless a metrics token is configured', async () => {
    const res = await fetch(`${withoutToken.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 404);
  });

  it('refuses a missing or wrong token with 401', async () => {
    assert.equal((await fetch(`${withToken.url}/metrics`)).status, 401);
    const wrong = await fetch(`${withToken.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer realm="metrics"/);
  });

  it('serves Prometheus text with the request histogram by route prefix, not raw path', async () => {
    await fetch(`${withToken.url}/healthz`);
    await fetch(`${withToken.url}/no/such/path/${'x'.repeat(20)}`);
    const res = await fetch(`${withToken.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(
      text,
      /sekisho_http_request_duration_seconds_count\{route="\/healthz",method="GET",status="2xx"\} 1/,
    );
    assert.match(text, /route="other",method="GET",status="4xx"/);
    assert.doesNotMatch(text, /xxxxxxxxxxxxxxxxxxxx/);
    assert.match(text, /process_resident_memory_bytes/);
  });
});
