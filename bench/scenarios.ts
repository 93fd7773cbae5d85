/**
 * The throughput scenarios, each against one server child. `prepare` runs outside the timed
 * section (it may mint tokens or codes); `check` sends one request and throws unless the answer
 * is the expected one, so a run can never report the speed of an error page.
 */
import type { ServerChild } from './lib/child.ts';
import type { HttpRequestSpec } from './lib/load.ts';
import {
  inSessions,
  type McpCall,
  mcpRequest,
  openLegacySession,
  parseMcpBody,
  rotatingBearer,
} from './lib/mcp-requests.ts';
import { sendOnce } from './lib/send-once.ts';
import { TOKEN_SCENARIOS } from './scenarios-token.ts';

export type ServerKind =
  | 'echo'
  | 'sdk'
  | 'sekisho'
  | 'sekisho-pg'
  | 'sekisho-pg-redis'
  | 'sekisho-nginx'
  | 'sekisho-sessions'
  | 'plain-oidc'
  | 'plain-oidc-sqlite';

export interface Prepared {
  readonly request: HttpRequestSpec | (() => HttpRequestSpec);
  readonly onBody?: (status: number, body: string) => void;
  /** Caps the number of requests (single-use credentials); the run is still bounded in time. */
  readonly amount?: number;
  /** A request `check` may send instead of the first load request (keeps single-use ones unspent). */
  readonly checkWith?: HttpRequestSpec;
  /** The RFC 8707 resource the token scenarios' access tokens must name. */
  readonly resource?: string;
}

export interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly server: ServerKind;
  /** Credentials are single-use: prepare again before every run (warm-up and each round). */
  readonly perRound?: boolean;
  /** Connections: the run's (default) or the refresh-chain count (BenchOptions.refreshChains). */
  readonly concurrency?: 'refresh-chains';
  prepare(child: ServerChild, ctx: PrepareContext): Promise<Prepared>;
  check(child: ServerChild, prepared: Prepared): Promise<void>;
}

export interface PrepareContext {
  readonly durationSec: number;
  readonly connections: number;
  /** Tokens the scenario rotates through (1 = the same token every request). */
  readonly tokens: number;
  /** The req/s this scenario reached in its previous run, if any (sizes single-use supplies). */
  readonly expectedRps?: number;
}

function first(prepared: Prepared): HttpRequestSpec {
  return typeof prepared.request === 'function' ? prepared.request() : prepared.request;
}

async function expectResult(
  child: ServerChild,
  prepared: Prepared,
  test: (result: Record<string, unknown>) => string | undefined,
): Promise<void> {
  const { status, type, text } = await sendOnce(child.url, first(prepared));
  if (status !== 200) throw new Error(`${child.name}: expected 200, got ${status}: ${text.slice(0, 300)}`);
  const msg = parseMcpBody(type, text) as { result?: Record<string, unknown>; error?: unknown };
  if (!msg?.result) throw new Error(`${child.name}: no JSON-RPC result: ${text.slice(0, 300)}`);
  const problem = test(msg.result);
  if (problem) throw new Error(`${child.name}: ${problem}: ${text.slice(0, 300)}`);
}

const isHello = (r: Record<string, unknown>) => JSON.stringify(r.content ?? '').includes('Hello, ');

/** Bearer tokens for Sekisho: real access tokens when the AS exists, none (anonymous) before that. */
async function sekishoTokens(child: ServerChild, count: number): Promise<string[]> {
  if (!child.info.authenticated) return [];
  return child.call<string[]>('access-tokens', { count });
}

/** What a Sekisho scenario's answer must show: the tool set or hello_world, as the signed-in user when one is. */
function checkSekishoCall(call: McpCall, anonymous: boolean): Scenario['check'] {
  return (child, prepared) =>
    expectResult(child, prepared, (r) => {
      const authed = !anonymous && child.info.authenticated === true;
      if (call.method === 'tools/list') {
        const names = ((r.tools as { name: string }[]) ?? []).map((t) => t.name);
        if (!names.includes('hello_world')) return 'hello_world missing from tools/list';
        if (authed && !names.includes('user_profile')) return 'signed-in tools missing from tools/list';
        return undefined;
      }
      if (!isHello(r)) return 'not a hello_world result';
      const sc = r.structuredContent as { authenticated?: boolean } | undefined;
      if (authed && sc?.authenticated !== true) return 'the call did not run as the signed-in user';
      return undefined;
    });
}

function sekishoCall(
  id: string,
  label: string,
  call: McpCall,
  anonymous = false,
  server: ServerKind = 'sekisho',
): Scenario {
  return {
    id,
    label,
    server,
    async prepare(child, ctx) {
      const tokens = anonymous ? [] : await sekishoTokens(child, ctx.tokens);
      return { request: rotatingBearer(mcpRequest(call), tokens) };
    },
    check: checkSekishoCall(call, anonymous),
  };
}

/**
 * A cluster scenario's check: the call is checked once per instance (nginx deals them round robin),
 * then nginx's access log must name every instance — a cluster where one instance fails or is never
 * reached is not measured as a cluster.
 */
function throughEveryInstance(scenario: Scenario): Scenario {
  return {
    ...scenario,
    async check(child, prepared) {
      const size = Number(child.info.instances);
      for (let i = 0; i < size; i++) await scenario.check(child, prepared);
      const answered = await child.call<number>('upstreams');
      if (answered !== size) throw new Error(`${child.name}: only ${answered} of ${size} instances answered`);
    },
  };
}

const HELLO: Omit<McpCall, 'era'> = { method: 'tools/call', tool: 'hello_world', args: {} };
const SESSION_SCENARIO_SESSIONS = 16;

export const THROUGHPUT_SCENARIOS: readonly Scenario[] = [
  {
    id: 'a',
    label: 'bare node:http JSON-RPC echo (ceiling)',
    server: 'echo',
    prepare: async () => ({
      request: rotatingBearer(mcpRequest({ era: 'modern', ...HELLO }, '/'), ['bench-token']),
    }),
    check: (child, prepared) => expectResult(child, prepared, (r) => (isHello(r) ? undefined : 'bad echo')),
  },
  {
    id: 'b',
    label: 'SDK v2 recipe, 2026-07-28 (peer)',
    server: 'sdk',
    prepare: async () => ({ request: rotatingBearer(mcpRequest({ era: 'modern', ...HELLO }), ['any']) }),
    check: (child, prepared) => expectResult(child, prepared, (r) => (isHello(r) ? undefined : 'bad call')),
  },
  {
    id: 'b-legacy',
    label: 'SDK v2 recipe, 2025-06-18 stateless',
    server: 'sdk',
    prepare: async () => ({ request: rotatingBearer(mcpRequest({ era: 'legacy', ...HELLO }), ['any']) }),
    check: (child, prepared) => expectResult(child, prepared, (r) => (isHello(r) ? undefined : 'bad call')),
  },
  sekishoCall('c', 'Sekisho tools/call, 2026-07-28', { era: 'modern', ...HELLO }),
  // The same call without a token (demo mode serves public tools anonymously): (c0) − (c) is
  // what authentication costs per request.
  sekishoCall('c0', 'Sekisho tools/call, 2026-07-28, no token', { era: 'modern', ...HELLO }, true),
  // (c) on the cluster backend: every request reads its grant and user from PostgreSQL…
  sekishoCall(
    'c-pg',
    'Sekisho tools/call, 2026-07-28, PostgreSQL',
    { era: 'modern', ...HELLO },
    false,
    'sekisho-pg',
  ),
  // …and with Redis too (throttles, replay caches, invalidation fan-out): one instance as a cluster
  // member runs it.
  sekishoCall(
    'c-pg-redis',
    'Sekisho tools/call, 2026-07-28, PostgreSQL + Redis',
    { era: 'modern', ...HELLO },
    false,
    'sekisho-pg-redis',
  ),
  // Three such instances behind nginx (servers/sekisho-cluster.ts): on 2 cores, the proxy's and the
  // cluster's overhead, not scaling.
  throughEveryInstance(
    sekishoCall(
      'c-nginx',
      'Sekisho tools/call, 3 instances behind nginx, PostgreSQL + Redis',
      { era: 'modern', ...HELLO },
      false,
      'sekisho-nginx',
    ),
  ),
  sekishoCall('d', 'Sekisho tools/call, 2025-06-18 stateless', { era: 'legacy', ...HELLO }),
  // What 2025-era clients meet by default on one box: the call inside a session (Express, the gate,
  // the session's own SDK transport and server). Sessions are per (user, client) pair and capped at
  // 32 a pair, so 16 tokens of their own, each opening one session, are rotated.
  {
    id: 'd-session',
    label: 'Sekisho tools/call, 2025-06-18 in a session (the default)',
    server: 'sekisho-sessions',
    async prepare(child) {
      const tokens = await sekishoTokens(child, SESSION_SCENARIO_SESSIONS);
      const owners = tokens.length
        ? tokens
        : Array.from({ length: SESSION_SCENARIO_SESSIONS }, () => undefined);
      const sessions = [];
      for (const token of owners)
        sessions.push({ token, sessionId: await openLegacySession(child.url, token) });
      return { request: inSessions(mcpRequest({ era: 'legacy', ...HELLO }), sessions) };
    },
    check: checkSekishoCall({ era: 'legacy', ...HELLO }, false),
  },
  sekishoCall('e', 'Sekisho tools/list, 2026-07-28', { era: 'modern', method: 'tools/list' }),
  sekishoCall(
    'e-pg-redis',
    'Sekisho tools/list, 2026-07-28, PostgreSQL + Redis',
    { era: 'modern', method: 'tools/list' },
    false,
    'sekisho-pg-redis',
  ),
  ...TOKEN_SCENARIOS,
];
