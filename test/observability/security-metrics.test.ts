/**
 * Issue 14, part 3: the security counters on /metrics move with the events they count — sign-ins by
 * result, throttled attempts, refresh-token reuse, revocations by who revoked, token verification
 * failures by reason, registrations by kind, step-ups (challenged and widened) — fed from the audit
 * log's emit point (so a counter and its record cannot disagree) or, for refused tokens and step-up
 * challenges, where they happen. Label values are fixed words.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { browserlessLogin } from '../helpers/browserless-login.ts';
import { modernPost } from '../helpers/mcp-http.ts';
import { authorizeUrl, pkce, refresh, registerClient, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TOKEN = 'metrics-token-0123456789';
let srv: TestServer;

before(async () => {
  srv = await startTestServer({
    SEKISHO_METRICS_TOKEN: TOKEN,
    SEKISHO_REFRESH_REUSE_GRACE_SECONDS: '0',
    SEKISHO_LOGIN_ATTEMPTS_PER_ACCOUNT_IP: '2',
  });
  await srv.sekisho.identity.addUser({ username: 'mia', password: 'mia-correct-horse-1' });
  await srv.sekisho.identity.addUser({ username: 'boss', password: 'boss-correct-horse-1', role: 'admin' });
});
after(() => srv?.close());

/** Every sample of the security counters, as `name{labels}` → value. */
async function samples(): Promise<Map<string, number>> {
  const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m =
      /^(sekisho_(?:signin|refresh|grant_revocations|client_registrations|consents|step_ups|token_verification|audit)[^\s]*)\s+(\S+)$/.exec(
        line,
      );
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Waits (bounded) until `name` reaches at least `atLeast`. */
async function reaches(name: string, atLeast: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = (await samples()).get(name) ?? 0;
    if (value >= atLeast) return value;
    assert.ok(Date.now() < deadline, `${name} stayed at ${value}, expected ≥ ${atLeast}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('security metrics on /metrics', () => {
  it('sign-ins by result and throttled attempts by limit', async () => {
    await signIn(srv.url, { username: 'mia', password: 'mia-correct-horse-1' });
    await reaches('sekisho_signins_total{result="success"}', 1);
    for (let i = 0; i < 3; i++) await srv.sekisho.identity.authenticate('mia', 'wrong-guess', '198.51.100.9');
    await reaches('sekisho_signins_total{result="failure"}', 2);
    await reaches('sekisho_signins_total{result="throttled"}', 1);
    await reaches('sekisho_signin_throttled_total{limit="username_ip"}', 1);
  });

  it('registrations by kind, consents, refresh reuse and revocations by who', async () => {
    const before = (await samples()).get('sekisho_client_registrations_total{kind="dcr"}') ?? 0;
    const { client, tokens } = await signIn(srv.url, { username: 'mia', password: 'mia-correct-horse-1' });
    await reaches('sekisho_client_registrations_total{kind="dcr"}', before + 1);
    await reaches('sekisho_consents_total{decision="granted"}', 2);

    const other = await registerClient(srv.url);
    await browserlessLogin(
      authorizeUrl(srv.url, { clientId: other.client_id, challenge: pkce().challenge, resource: srv.mcpUrl }),
      { username: 'mia', password: 'mia-correct-horse-1', consent: 'deny' },
    );
    await reaches('sekisho_consents_total{decision="denied"}', 1);

    const old = tokens.body.refresh_token as string;
    assert.equal((await refresh(srv.url, { clientId: client.client_id, refreshToken: old })).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await refresh(srv.url, { clientId: client.client_id, refreshToken: old })).status, 400);
    await reaches('sekisho_refresh_token_reuse_total', 1);
    await reaches('sekisho_grant_revocations_total{by="reuse_detection"}', 1);

    const { client: kept } = await signIn(srv.url, { username: 'mia', password: 'mia-correct-horse-1' });
    const [grant] = await srv.sekisho.authorizationServer!.listGrants({ clientId: kept.client_id });
    await srv.sekisho.authorizationServer!.revokeGrant(grant!.grantId, {
      actor: { kind: 'user', id: grant!.accountId },
      by: 'user',
    });
    await reaches('sekisho_grant_revocations_total{by="user"}', 1);
  });

  it('token verification failures by reason', async () => {
    const call = (authorization: string) =>
      modernPost(srv.mcpUrl, 'tools/list', {}, { headers: { authorization } });
    assert.equal((await call('Bearer not-a-jwt!')).status, 401);
    await reaches('sekisho_token_verification_failures_total{reason="malformed"}', 1);
    assert.equal((await call('Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).status, 401);
    const reasons = [...(await samples()).keys()].filter((k) => k.startsWith('sekisho_token_verification'));
    assert.ok(reasons.length >= 2, reasons.join(', '));
    for (const k of reasons) assert.match(k, /reason="[a-z_]+"/);

    const { tokens } = await signIn(srv.url, { username: 'mia', password: 'mia-correct-horse-1' });
    await srv.sekisho.identity.setDisabled('mia', true);
    assert.equal((await call(`Bearer ${tokens.body.access_token}`)).status, 401);
    await reaches('sekisho_token_verification_failures_total{reason="revoked"}', 1);
    await srv.sekisho.identity.setDisabled('mia', false);
  });

  it('step-ups: the challenge and the widened grant', async () => {
    const first = await signIn(srv.url, { username: 'boss', password: 'boss-correct-horse-1' }, {});
    const denied = await modernPost(
      srv.mcpUrl,
      'tools/call',
      { name: 'admin_panel', arguments: { action: 'user_stats' } },
      { headers: { authorization: `Bearer ${first.tokens.body.access_token}` } },
    );
    assert.equal(denied.status, 403, denied.text);
    await reaches('sekisho_step_ups_total{stage="challenged"}', 1);

    const remembered = await signIn(srv.url, {
      username: 'boss',
      password: 'boss-correct-horse-1',
      remember: true,
    });
    const flow = await browserlessLogin(
      authorizeUrl(srv.url, {
        clientId: remembered.client.client_id,
        challenge: pkce().challenge,
        resource: srv.mcpUrl,
        scope: 'mcp:tools mcp:data mcp:admin',
      }),
      { username: 'boss', password: 'boss-correct-horse-1', jar: remembered.flow.jar },
    );
    assert.ok(flow.callback.searchParams.get('code'));
    await reaches('sekisho_step_ups_total{stage="widened"}', 1);
    await reaches('sekisho_audit_events_total{type="grant.widened",outcome="success"}', 1);
  });
});

describe('the Grafana dashboard (docs/grafana/sekisho-security.json)', () => {
  it('queries only metrics this server exports, through the Prometheus data source input', async () => {
    const file = join(import.meta.dirname, '..', '..', 'docs', 'grafana', 'sekisho-security.json');
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
      __inputs: { name: string; pluginId: string }[];
      panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    assert.deepEqual(
      dashboard.__inputs.map((i) => [i.name, i.pluginId]),
      [['DS_PROMETHEUS', 'prometheus']],
    );
    const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const exported = new Set([...(await res.text()).matchAll(/^# HELP (\S+)/gm)].map((m) => m[1]!));
    assert.ok(dashboard.panels.length >= 10);
    for (const panel of dashboard.panels) {
      // Grafana's import placeholder for the data source chosen at import (not a JS template).
      assert.equal(panel.datasource.uid, ['$', '{DS_PROMETHEUS}'].join(''), panel.title);
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/sekisho_[a-z_]+/g)) {
          const base = name.replace(/_(count|sum|bucket)$/, '');
          assert.ok(exported.has(base), `${panel.title}: ${name} is not exported`);
        }
      }
    }
  });
});
