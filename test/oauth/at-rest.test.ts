/**
 * Secrets at rest: after a full flow, no token, code, session cookie or interaction id appears in
 * the database — not as a row id, not inside a payload. Rows are keyed by SHA-256 digests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashTokenId } from '../../src/oauth/adapter.ts';
import type { SqliteStorage } from '../../src/storage/sqlite/index.ts';
import { refresh, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv?.close());

describe('the database holds no bearer secrets', () => {
  it('stores codes, refresh tokens, sessions and interactions under digests only', async () => {
    const { client, tokens, code, flow } = await signIn(srv.url, { username: 'demo', password: 'demo123' });
    const rotated = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(rotated.status, 200);
    const cookies = (flow.jar.header(srv.url) ?? '').split('; ').map((c) => c.split('=')[1]!);
    const interactionIds = flow.pages.map((p) => new URL(p.url).pathname.split('/')[2]!);
    const secrets = [
      code,
      tokens.body.refresh_token,
      rotated.body.refresh_token,
      tokens.body.access_token,
      ...cookies,
      ...interactionIds,
    ].filter((s) => s.length >= 20);
    assert.ok(secrets.length >= 6);

    const db = (srv.sekisho.storage as SqliteStorage).db;
    const rows = db.prepare('SELECT model, id, payload FROM oidc_models').all() as {
      model: string;
      id: string;
      payload: string;
    }[];
    for (const row of rows) {
      for (const secret of secrets) {
        assert.ok(
          !row.id.includes(secret) && !row.payload.includes(secret),
          `${row.model} row leaks a secret`,
        );
      }
    }
    const ids = new Set(rows.filter((r) => r.model === 'RefreshToken').map((r) => r.id));
    assert.ok(ids.has(hashTokenId(tokens.body.refresh_token)));
    assert.ok(ids.has(hashTokenId(rotated.body.refresh_token)));
  });
});
