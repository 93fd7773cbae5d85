/**
 * 2025-era sessions on one box (issue #12): the session id is issued at initialize and required
 * afterwards (400 without, 404 unknown), DELETE ends it, GET opens the standalone SSE stream, and a
 * stream dropped and resumed with Last-Event-ID loses nothing. Security: the id is never
 * authentication — another user's token, another client's token, an anonymous request or a guessed id
 * each get 404; a revoked grant or a removed account ends the session; per-user caps evict the least
 * recently used session; the event store stays bounded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectV1, connectV2, staticBearer } from '../helpers/clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { type TrustedTokens, trustTestKeys } from '../helpers/trusted-tokens.ts';

const VERSION = '2025-11-25';
const BASE = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let srv: TestServer;
let tokens: TrustedTokens;

before(async () => {
  srv = await startTestServer({
    SEKISHO_DEMO: '1',
    SEKISHO_ANONYMOUS: '1',
    SEKISHO_MCP_SESSIONS_PER_USER: '3',
  });
  tokens = await trustTestKeys(srv, 'sessions');
});
after(() => srv?.close());

function headers(token: string | undefined, session?: string, extra: Record<string, string> = {}) {
  return {
    ...BASE,
    'mcp-protocol-version': VERSION,
    ...(token && { authorization: `Bearer ${token}` }),
    ...(session && { 'mcp-session-id': session }),
    ...extra,
  };
}

async function initialize(token: string | undefined): Promise<string> {
  const res = await fetch(srv.mcpUrl, {
    method: 'POST',
    headers: headers(token),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 't', version: '0' } },
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  const id = res.headers.get('mcp-session-id');
  assert.ok(id, 'initialize answers with Mcp-Session-Id');
  const ack = await fetch(srv.mcpUrl, {
    method: 'POST',
    headers: headers(token, id),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  assert.equal(ack.status, 202);
  return id;
}

async function listTools(token: string | undefined, session: string | undefined) {
  const res = await fetch(srv.mcpUrl, {
    method: 'POST',
    headers: headers(token, session),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  return { status: res.status, text: await res.text() };
}

describe('2025-era sessions: lifecycle', () => {
  it('issues an unguessable Mcp-Session-Id at initialize, a new one each time', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const a = await initialize(token);
    const b = await initialize(token);
    assert.notEqual(a, b);
    for (const id of [a, b]) {
      assert.match(id, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url (256 bits)');
    }
  });

  it('requires the id afterwards: none → 400, unknown → 404, its own → 200', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const id = await initialize(token);
    const none = await listTools(token, undefined);
    assert.equal(none.status, 400);
    assert.match(none.text, /Mcp-Session-Id header is required/);
    const unknown = await listTools(token, 'x'.repeat(43));
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /-32001/);
    const ok = await listTools(token, id);
    assert.equal(ok.status, 200);
    assert.match(ok.text, /hello_world/);
  });

  it('DELETE ends the session; its id is 404 afterwards', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const id = await initialize(token);
    const del = await fetch(srv.mcpUrl, { method: 'DELETE', headers: headers(token, id) });
    assert.equal(del.status, 200);
    assert.equal((await listTools(token, id)).status, 404);
    const again = await fetch(srv.mcpUrl, { method: 'DELETE', headers: headers(token, id) });
    assert.equal(again.status, 404);
  });

  it('GET opens the standalone SSE stream; a second one at once is a 409', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const id = await initialize(token);
    const ctl = new AbortController();
    const get = await fetch(srv.mcpUrl, {
      headers: headers(token, id, { accept: 'text/event-stream' }),
      signal: ctl.signal,
    });
    assert.equal(get.status, 200);
    assert.match(get.headers.get('content-type') ?? '', /text\/event-stream/);
    const second = await fetch(srv.mcpUrl, { headers: headers(token, id, { accept: 'text/event-stream' }) });
    assert.equal(second.status, 409);
    await second.text();
    ctl.abort();
    const without = await fetch(srv.mcpUrl, {
      headers: headers(token, undefined, { accept: 'text/event-stream' }),
    });
    assert.equal(without.status, 400);
    await without.text();
  });
});

describe('2025-era sessions: the id is never authentication', () => {
  it("another user's token with a valid session id → 404", async () => {
    const mine = await tokens.token('demo', 'mcp:tools');
    const id = await initialize(mine);
    const theirs = await tokens.token('admin', 'mcp:tools mcp:admin');
    assert.equal((await listTools(theirs, id)).status, 404);
    const del = await fetch(srv.mcpUrl, { method: 'DELETE', headers: headers(theirs, id) });
    assert.equal(del.status, 404, 'nor may they end it');
    assert.equal((await listTools(mine, id)).status, 200, 'the owner still can');
  });

  it('the same user through another client (another grant) → 404', async () => {
    const mine = await tokens.token('demo', 'mcp:tools');
    const id = await initialize(mine);
    const gid = `grant-other-client-${Date.now()}`;
    await srv.sekisho.storage.upsert(
      'Grant',
      gid,
      { accountId: tokens.users.demo!, clientId: 'client-2', kind: 'Grant' },
      3600,
    );
    const otherClient = await tokens.token('demo', 'mcp:tools', { clientId: 'client-2', gid });
    assert.equal((await listTools(otherClient, id)).status, 404);
    const otherGrant = await tokens.token('demo', 'mcp:tools');
    assert.equal((await listTools(otherGrant, id)).status, 404);
  });

  it('an anonymous request with a signed-in session id → 404, and the reverse', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const signedIn = await initialize(token);
    assert.equal((await listTools(undefined, signedIn)).status, 404);
    const anonymous = await initialize(undefined);
    assert.equal((await listTools(token, anonymous)).status, 404);
    assert.equal((await listTools(undefined, anonymous)).status, 200);
  });

  it('a guessed or malformed id → 404 (and never a 500)', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    await initialize(token);
    for (const guess of ['0', 'A'.repeat(43), '../../etc', 'ä', 'x'.repeat(4000)]) {
      const res = await listTools(token, guess);
      assert.ok(res.status === 404 || res.status === 400, `${guess.slice(0, 10)} → ${res.status}`);
    }
  });

  it('a token the gate refuses never reaches the session (401)', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const id = await initialize(token);
    const res = await listTools('not-a-token', id);
    assert.equal(res.status, 401);
  });

  it('revoking the grant ends its sessions', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const id = await initialize(token);
    const gid = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).gid as string;
    const sessions = srv.sekisho.mcpSessions!;
    const before = sessions.size;
    await srv.sekisho.storage.revokeByGrantId(gid);
    await waitFor(() => sessions.size === before - 1, 'session ended after revocation');
    // The token is refused by the gate now (401); a new grant's token cannot pick the session up.
    const fresh = await tokens.token('demo', 'mcp:tools');
    assert.equal((await listTools(fresh, id)).status, 404);
  });
});

describe('2025-era sessions: limits', () => {
  it('a user beyond the per-user cap loses their least recently used session', async () => {
    const token = await tokens.token('demo', 'mcp:tools');
    const ids = [await initialize(token), await initialize(token), await initialize(token)];
    assert.equal((await listTools(token, ids[0])).status, 200); // ids[0] is now the most recent
    const fourth = await initialize(token);
    assert.equal((await listTools(token, ids[1])).status, 404, 'the least recently used one ended');
    for (const id of [ids[0]!, ids[2]!, fourth]) assert.equal((await listTools(token, id)).status, 200);
  });
});

describe('2025-era sessions: notifications and resumption with the official clients', () => {
  it('v2 client (2025 era) gets tools/list_changed after a role change, and sees the new tools', async () => {
    const { user, token } = await plainUser('role');
    const c = await connectV2(srv.mcpUrl, { mode: 'legacy', authProvider: staticBearer(token) });
    try {
      assert.ok(c.transport.sessionId, 'the v2 client holds a session id');
      const before = (await c.client.listTools()).tools.map((t) => t.name);
      assert.ok(!before.includes('admin_panel'));
      let changed = 0;
      c.client.setNotificationHandler('notifications/tools/list_changed', () => {
        changed++;
      });
      await waitFor(() => standaloneOpen(c.transport.sessionId!), 'the client opened its GET stream');
      await srv.sekisho.identity.setRole(user.username, 'admin');
      await waitFor(() => changed > 0, 'tools/list_changed delivered');
      const afterList = (await c.client.listTools()).tools.map((t) => t.name);
      assert.ok(afterList.includes('admin_panel'), afterList.join(','));
    } finally {
      await c.close();
    }
  });

  it('v1 client gets tools/list_changed too', async () => {
    const { user, token } = await plainUser('v1');
    const c = await connectV1(srv.mcpUrl, { headers: { authorization: `Bearer ${token}` } });
    try {
      let changed = 0;
      c.client.setNotificationHandler(
        (await import('@modelcontextprotocol/sdk/types.js')).ToolListChangedNotificationSchema,
        () => {
          changed++;
        },
      );
      await waitFor(() => standaloneOpen(c.transport.sessionId!), 'the v1 client opened its GET stream');
      await srv.sekisho.identity.setRole(user.username, 'admin');
      await waitFor(() => changed > 0, 'tools/list_changed delivered to v1');
    } finally {
      await c.close();
    }
  });

  it('a GET stream dropped and resumed with Last-Event-ID loses no event', async () => {
    const { user, token } = await plainUser('resume');
    const id = await initialize(token);
    const first = await openStream(token, id);
    await waitFor(() => standaloneOpen(id), 'stream open');
    await srv.sekisho.identity.setRole(user.username, 'admin');
    const seen = await first.next();
    assert.match(seen.data, /tools\/list_changed/);
    first.close();
    await waitFor(() => !standaloneOpen(id), 'stream closed');
    // While no stream is open, the next change is stored, not lost.
    await srv.sekisho.identity.setRole(user.username, 'user');
    await waitFor(() => (sessionOf(id)?.events.size?.().events ?? 0) >= 2, 'event stored');
    const resumed = await openStream(token, id, seen.id);
    const replayed = await resumed.next();
    assert.match(replayed.data, /tools\/list_changed/);
    assert.notEqual(replayed.id, seen.id);
    resumed.close();
  });

  it('2026-07-28: a subscriptions/listen stream gets tools/list_changed after a role change', async () => {
    const { user, token } = await plainUser('listen');
    const c = await connectV2(srv.mcpUrl, { mode: 'modern', authProvider: staticBearer(token) });
    try {
      assert.equal(c.era, 'modern');
      let changed = 0;
      c.client.setNotificationHandler('notifications/tools/list_changed', () => {
        changed++;
      });
      const subscription = await c.client.listen({ toolsListChanged: true });
      await srv.sekisho.identity.setRole(user.username, 'admin');
      await waitFor(() => changed > 0, 'tools/list_changed on the listen stream');
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('admin_panel'));
      await subscription.close();
    } finally {
      await c.close();
    }
  });

  it('keeps a bounded event store', async () => {
    const { createMemoryEventStore } = await import('../../src/mcp/sessions/event-store.ts');
    const store = createMemoryEventStore({ events: 3, bytes: 10_000 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await store.storeEvent('s', { jsonrpc: '2.0', method: 'n', params: { i } }));
    }
    assert.equal(store.size().events, 3);
    assert.equal(await store.getStreamIdForEventId(ids[0]!), undefined, 'the oldest were dropped');
    const sent: unknown[] = [];
    await store.replayEventsAfter(ids[2]!, { send: async (_id, m) => void sent.push(m) });
    assert.equal(sent.length, 2);
    const small = createMemoryEventStore({ events: 100, bytes: 200 });
    for (let i = 0; i < 20; i++) await small.storeEvent('s', { jsonrpc: '2.0', method: 'x'.repeat(50) });
    assert.ok(small.size().bytes <= 200, `bytes bounded: ${small.size().bytes}`);
  });
});

/** A new account with role `user` and a token holding every scope (so a role change alone changes its tools). */
async function plainUser(prefix: string) {
  const user = await srv.sekisho.identity.addUser({
    username: `${prefix}-${Date.now()}`,
    password: 'correct horse battery',
    name: prefix,
    email: `${prefix}@example.test`,
    role: 'user',
  });
  tokens.users[user.username] = user.id;
  return { user, token: await tokens.token(user.username, 'mcp:tools mcp:data mcp:admin') };
}

function sessionOf(id: string) {
  return srv.sekisho.mcpSessions?.get(id);
}

function standaloneOpen(id: string): boolean {
  return (sessionOf(id)?.openStreams ?? 0) > 0;
}

interface SseEvent {
  id: string;
  data: string;
}

async function openStream(token: string, session: string, lastEventId?: string) {
  const ctl = new AbortController();
  const res = await fetch(srv.mcpUrl, {
    headers: headers(token, session, {
      accept: 'text/event-stream',
      ...(lastEventId && { 'last-event-id': lastEventId }),
    }),
    signal: ctl.signal,
  });
  assert.equal(res.status, 200, await (res.status === 200 ? Promise.resolve('') : res.text()));
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<SseEvent> {
      for (let i = 0; i < 1000; i++) {
        const cut = buffer.indexOf('\n\n');
        if (cut >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = frame
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('');
          const id = frame
            .split('\n')
            .find((l) => l.startsWith('id:'))
            ?.slice(3)
            .trim();
          if (data && id) return { id, data };
          continue;
        }
        const { value, done } = await withTimeout(reader.read(), 20_000);
        if (done) throw new Error('stream ended');
        buffer += value;
      }
      throw new Error('no event');
    },
    close: () => ctl.abort(),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SEKISHO_MCP_SESSIONS=0 keeps stateless 2025-era serving', () => {
  it('no Mcp-Session-Id, requests without one served, GET/DELETE 405', async () => {
    const stateless = await startTestServer({
      SEKISHO_DEMO: '1',
      SEKISHO_ANONYMOUS: '1',
      SEKISHO_MCP_SESSIONS: '0',
    });
    try {
      const init = await fetch(stateless.mcpUrl, {
        method: 'POST',
        headers: headers(undefined),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 't', version: '0' } },
        }),
      });
      assert.equal(init.status, 200);
      await init.text();
      assert.equal(init.headers.get('mcp-session-id'), null);
      const list = await fetch(stateless.mcpUrl, {
        method: 'POST',
        headers: headers(undefined),
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      assert.equal(list.status, 200);
      await list.text();
      for (const method of ['GET', 'DELETE']) {
        const res = await fetch(stateless.mcpUrl, {
          method,
          headers: headers(undefined, undefined, { accept: 'text/event-stream' }),
        });
        assert.equal(res.status, 405, method);
        await res.text();
      }
      assert.equal(stateless.sekisho.mcpSessions, undefined);
    } finally {
      await stateless.close();
    }
  });
});
