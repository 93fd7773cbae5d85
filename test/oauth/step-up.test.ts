/**
 * Step-up for clients that answer 403 insufficient_scope with a refresh (oauth/step-up.ts): the one
 * refresh after the challenge is refused with invalid_grant (so the v1 SDK client authorizes again),
 * the refresh token survives it, later refreshes work, and refreshes that already cover the scopes or
 * come after the window are never refused. The end-to-end proof with the real v1 client is in
 * test/e2e/oauth-clients.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGrantService, STEP_UP_WINDOW_MS } from '../../src/oauth/grants.ts';
import { legacyPost } from '../helpers/mcp-http.ts';
import { refresh, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
});
after(() => srv?.close());

const admin = { username: 'admin', password: 'admin123' };

async function callAdminPanel(accessToken: string) {
  return legacyPost(
    srv.mcpUrl,
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'admin_panel', arguments: { action: 'user_stats' } },
    },
    { headers: { authorization: `Bearer ${accessToken}` } },
  );
}

describe('a refresh that answers a step-up challenge', () => {
  it('is refused once with invalid_grant naming the scope; the refresh token stays good', async () => {
    const { client, tokens } = await signIn(srv.url, admin, { scope: 'mcp:tools mcp:data' });
    assert.equal(tokens.status, 200);
    const challenged = await callAdminPanel(tokens.body.access_token);
    assert.equal(challenged.status, 403);
    assert.match(challenged.headers.get('www-authenticate') ?? '', /insufficient_scope.*scope="mcp:admin"/);

    const refused = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    assert.match(refused.body.error_description, /does not include mcp:admin.*new authorization/);

    // The note answered one refresh; the same refresh token still works (it was not consumed).
    const ok = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.scope, 'mcp:tools mcp:data');
  });

  it('passes when the refresh token already covers the challenged scopes', async () => {
    const { client, tokens } = await signIn(srv.url, admin, { scope: 'mcp:tools mcp:data mcp:admin' });
    assert.equal(tokens.status, 200);
    const grants = createGrantService({ storage: srv.sekisho.storage, resource: srv.mcpUrl });
    const [grant] = await grants.listGrants({ clientId: client.client_id });
    await grants.noteStepUp(grant!.grantId, ['mcp:admin']);
    const ok = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('a refresh with no note pending reads the grant row once; with a note, it still finds the note', async () => {
    const { client, tokens } = await signIn(srv.url, admin, { scope: 'mcp:tools mcp:data' });
    assert.equal(tokens.status, 200);
    const storage = srv.sekisho.storage;
    const original = storage.find;
    const grantReads: string[] = [];
    storage.find = (model, id) => {
      if (model === 'Grant') grantReads.push(id);
      return original.call(storage, model, id);
    };
    try {
      const ok = await refresh(srv.url, {
        clientId: client.client_id,
        refreshToken: tokens.body.refresh_token,
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(grantReads.length, 1, 'oidc-provider reads the grant; the step-up check reuses that read');

      // A note written after the token was issued is seen by the very next refresh (it is read, not cached).
      const grants = createGrantService({ storage: srv.sekisho.storage, resource: srv.mcpUrl });
      const [grant] = await grants.listGrants({ clientId: client.client_id });
      await grants.noteStepUp(grant!.grantId, ['mcp:admin']);
      const refused = await refresh(srv.url, {
        clientId: client.client_id,
        refreshToken: ok.body.refresh_token,
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_grant');
    } finally {
      storage.find = original;
    }
  });

  it('a note older than the window is dropped without refusing anything', async () => {
    const { client, tokens } = await signIn(srv.url, admin, { scope: 'mcp:tools' });
    let clock = Date.now();
    const grants = createGrantService({
      storage: srv.sekisho.storage,
      resource: srv.mcpUrl,
      now: () => clock,
    });
    const [grant] = await grants.listGrants({ clientId: client.client_id });
    await grants.noteStepUp(grant!.grantId, ['mcp:admin']);
    clock += STEP_UP_WINDOW_MS + 1;
    assert.equal(await grants.takeStepUp(grant!.grantId), undefined, 'stale note');
    const ok = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('a user-role caller gets a tool error, not a challenge, so no note is left behind', async () => {
    const { client, tokens } = await signIn(srv.url, { username: 'demo', password: 'demo123' });
    const answer = await callAdminPanel(tokens.body.access_token);
    assert.equal(answer.status, 200);
    assert.equal(answer.body?.result?.isError, true);
    const ok = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});

describe('a new authorization after a step-up challenge (clients that re-ask for their old scope)', () => {
  const basic = 'mcp:tools mcp:data offline_access';
  const mcpScopes = (scope: string) =>
    scope
      .split(' ')
      .filter((s) => s.startsWith('mcp:'))
      .sort();
  const consentShown = (flow: { pages: readonly { html: string }[] }) =>
    flow.pages.some((p) => p.html.includes('id="consent"'));

  it('the consent adds the challenged scope the role allows; the token says so; then the note is settled', async () => {
    const first = await signIn(srv.url, admin, { scope: basic });
    assert.equal((await callAdminPanel(first.tokens.body.access_token)).status, 403);

    // The client asks again for exactly what it asked before (as the Inspector 2.12 CLI does).
    const again = await signIn(srv.url, admin, { scope: basic, client: first.client });
    assert.equal(again.tokens.status, 200);
    assert.deepEqual(mcpScopes(again.tokens.body.scope), ['mcp:admin', 'mcp:data', 'mcp:tools']);
    const consent = again.flow.pages.find((p) => p.html.includes('id="consent"'));
    assert.match(consent?.html ?? '', /mcp:admin/, 'the user saw what was added');
    const ok = await callAdminPanel(again.tokens.body.access_token);
    assert.equal(ok.status, 200);
    assert.notEqual(ok.body?.result?.isError, true);

    // Answered: a later authorization of that client gets what it asks for, nothing more.
    const later = await signIn(srv.url, admin, { scope: basic, client: first.client });
    assert.deepEqual(mcpScopes(later.tokens.body.scope), ['mcp:data', 'mcp:tools']);
  });

  it('a refresh answering the note does not hide it from the next consent', async () => {
    const first = await signIn(srv.url, admin, { scope: basic });
    await callAdminPanel(first.tokens.body.access_token);
    const refused = await refresh(srv.url, {
      clientId: first.client.client_id,
      refreshToken: first.tokens.body.refresh_token,
    });
    assert.equal(refused.body.error, 'invalid_grant');
    const again = await signIn(srv.url, admin, { scope: basic, client: first.client });
    assert.ok(again.tokens.body.scope.split(' ').includes('mcp:admin'));
  });

  it('a remembered grant is not reused silently while a step-up is pending: consent is asked', async () => {
    const first = await signIn(srv.url, { ...admin, remember: true }, { scope: basic });
    const silent = await signIn(srv.url, admin, { scope: basic, client: first.client });
    assert.equal(consentShown(silent.flow), false, 'remembered: no consent page');
    await callAdminPanel(silent.tokens.body.access_token);
    const asked = await signIn(srv.url, admin, { scope: basic, client: first.client });
    assert.equal(consentShown(asked.flow), true, 'a pending step-up asks again');
    assert.ok(asked.tokens.body.scope.split(' ').includes('mcp:admin'));
  });

  it('a note of another client or another user adds nothing', async () => {
    const first = await signIn(srv.url, admin, { scope: basic });
    await callAdminPanel(first.tokens.body.access_token);
    const otherClient = await signIn(srv.url, admin, { scope: basic });
    assert.ok(!otherClient.tokens.body.scope.split(' ').includes('mcp:admin'));
    const otherUser = await signIn(
      srv.url,
      { username: 'inspector', password: 'inspector123' },
      {
        scope: basic,
        client: first.client,
      },
    );
    assert.ok(!otherUser.tokens.body.scope.split(' ').includes('mcp:admin'));
  });
});
