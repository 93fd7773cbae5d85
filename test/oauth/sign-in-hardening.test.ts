/**
 * Issue 8 over real HTTP: no lock a stranger can put on an account, an atomic per-IP limit, a bounded
 * password-hashing queue, and a sign-in storm that does not starve authenticated MCP calls. Client
 * addresses are real: each "user" binds its socket to its own loopback address (127.0.x.y).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  loopbackAddress,
  openSignInForm,
  postSignIn,
  signInOnAccountPage,
} from '../helpers/account-sign-in.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  await srv.sekisho.identity.addUser({ username: 'victim', password: 'victim-password' });
});
after(() => srv?.close());

const at = (from: string, username: string, password: string) =>
  signInOnAccountPage(srv.loopbackUrl, { username, password, from });

describe('sign-in throttling over HTTP', () => {
  it('a stranger hammering a username cannot keep its owner out: the owner signs in from another address', async () => {
    const stranger = loopbackAddress(1);
    const owner = loopbackAddress(2);
    for (let i = 0; i < 5; i++) assert.equal((await at(stranger, 'victim', `guess-${i}`)).status, 401);
    // The stranger keeps going while the owner signs in.
    const hammering = Array.from({ length: 30 }, (_, i) => at(stranger, 'victim', `more-${i}`));
    const mine = await at(owner, 'victim', 'victim-password');
    assert.equal(mine.status, 303, 'the right password from a fresh address succeeds');
    const refused = await Promise.all(hammering);
    assert.ok(refused.every((r) => r.status === 429 && (r.retryAfterSeconds ?? 0) > 0));
    // Even the right password from the stranger's address is refused for the rest of the window.
    assert.equal((await at(stranger, 'victim', 'victim-password')).status, 429);
  });

  it('60 concurrent wrong attempts from one address are cut at exactly the per-IP limit of 20', async () => {
    const form = await openSignInForm(srv.loopbackUrl, loopbackAddress(3));
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        postSignIn(srv.loopbackUrl, form, { username: `made-up-${i}`, password: 'wrong' }),
      ),
    );
    const count = (s: number) => burst.filter((r) => r.status === s).length;
    // 401 = checked and wrong; busy = refused by the hashing pool before any check (counted against
    // no one): 429 once this address holds its share of the pool. Together they are the attempts the
    // per-IP limit let through: exactly 20; the other 40 are the per-IP limit's own 429s.
    const busy = burst.filter((r) => r.busy);
    const seen = JSON.stringify(burst.map((r) => `${r.status}${r.busy ? 'b' : ''}`));
    assert.equal(count(401) + busy.length, 20, seen);
    assert.equal(count(429) - busy.filter((r) => r.status === 429).length, 40, seen);
    assert.equal(count(503), 0, `one address alone never fills the server's pool: ${seen}`);
  });

  it('200 concurrent attempts from one address keep a real sign-in fast (bounded queue, per-address share)', async (t) => {
    const alone = await at(loopbackAddress(6), 'demo', 'demo123');
    assert.equal(alone.status, 303);
    const form = await openSignInForm(srv.loopbackUrl, loopbackAddress(4));
    const storm = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        postSignIn(srv.loopbackUrl, form, { username: `nobody-${i}`, password: 'wrong' }),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const legit = await at(loopbackAddress(5), 'demo', 'demo123');
    const outcomes = await storm;
    assert.equal(legit.status, 303);
    // Idle machine: ≈ 0.3 s alone, well under 2 s in the storm. The bound leaves headroom for a loaded
    // CI machine (it scales with the sign-in measured alone); before the pool all 200 were hashed
    // ahead of the user (~13 s on an idle machine).
    const bound = Math.max(4_000, 8 * alone.ms);
    t.diagnostic(
      `legit sign-in ${Math.round(legit.ms)} ms during the storm, ${Math.round(alone.ms)} ms alone`,
    );
    assert.ok(
      legit.ms < bound,
      `legit sign-in took ${Math.round(legit.ms)} ms (alone ${Math.round(alone.ms)} ms)`,
    );
    const hashed = outcomes.filter((r) => r.status === 401).length;
    assert.ok(hashed <= 20, `at most the per-IP limit was hashed (${hashed})`);
    // One address cannot fill the server's pool: its excess is its own (429), never a 503.
    assert.ok(outcomes.every((r) => [401, 429].includes(r.status)));
    const busy = outcomes.filter((r) => r.busy);
    assert.ok(
      busy.every((r) => (r.retryAfterSeconds ?? 0) >= 1),
      'busy answers carry Retry-After',
    );
  });
});

/** p99 of authenticated tools/call latencies sent every `everyMs` for `ms` (a paced client). */
async function probeToolsCall(token: string, ms: number, everyMs = 20): Promise<{ p99: number; n: number }> {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const started = performance.now();
    pending.push(
      modernPost(
        srv.mcpUrl,
        'tools/call',
        { name: 'hello_world', arguments: {} },
        {
          headers: { authorization: `Bearer ${token}` },
        },
      ).then((res) => {
        assert.equal(res.status, 200);
        latencies.push(performance.now() - started);
      }),
    );
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { p99: latencies[Math.ceil(latencies.length * 0.99) - 1]!, n: latencies.length };
}

describe('sign-in storm', () => {
  it('20 concurrent sign-ins do not starve an authenticated client’s tools/call', async () => {
    const demo = (await srv.sekisho.identity.findByUsername('demo'))!;
    const { accessToken } = await srv.sekisho.authorizationServer!.issueAccessToken({
      accountId: demo.id,
      scopes: ['mcp:tools'],
    });
    await probeToolsCall(accessToken, 500); // warm-up
    const quiet = await probeToolsCall(accessToken, 3_000);
    let stop = false;
    let signedIn = 0;
    const users = [
      ['demo', 'demo123'],
      ['admin', 'admin123'],
      ['inspector', 'inspector123'],
    ] as const;
    const storm = Array.from({ length: 20 }, async (_, i) => {
      const [username, password] = users[i % users.length]!;
      while (!stop) {
        const r = await at(loopbackAddress(100 + i), username, password);
        if (r.status === 303) signedIn++;
        else if (r.status === 503) await new Promise((res) => setTimeout(res, 200));
        else assert.fail(`sign-in answered ${r.status}`);
      }
    });
    const loaded = await probeToolsCall(accessToken, 3_000);
    stop = true;
    await Promise.all(storm);
    assert.ok(signedIn > 0, 'sign-ins went through during the storm');
    // Measured on an idle 2-core machine: quiet p99 ≈ 5–10 ms, storm p99 ≈ 2–4× that. Before the
    // hashing pool it was 1.5–2.3 s. The bound leaves room for a busy CI machine.
    const bound = Math.max(10 * quiet.p99, quiet.p99 + 400);
    assert.ok(
      loaded.p99 <= bound,
      `tools/call p99 ${loaded.p99.toFixed(1)} ms during the storm vs ${quiet.p99.toFixed(1)} ms quiet (${signedIn} sign-ins)`,
    );
    console.log(
      `# storm: tools/call p99 quiet ${quiet.p99.toFixed(1)} ms (n=${quiet.n}), during 20 concurrent sign-ins ${loaded.p99.toFixed(1)} ms (n=${loaded.n}), ${signedIn} sign-ins`,
    );
  });
});
