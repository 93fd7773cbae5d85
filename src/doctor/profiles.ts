/**
 * Client profiles: what each real MCP client needs of a deployment, as rules over the findings. The
 * SDK clients, mcp-remote and the Inspector were driven against Sekisho; Claude Code, VS Code and
 * Cursor follow the spec and their known behaviour (docs/doctor.md says which is which): which
 * protected-resource metadata form they read, whether they can only register dynamically, whether
 * they register as public clients (`none`), enforce RFC 9207 `iss`, or run in a browser (CORS).
 */
import type { Finding, Findings, Status } from './findings.ts';

interface Rule {
  /** The rule applies when any of these findings has one of the statuses. */
  readonly findings: readonly string[];
  readonly on?: readonly Status[];
  /** An extra condition (e.g. "and the challenge does not name the metadata"). */
  readonly when?: (get: (id: string) => Finding | undefined) => boolean;
  readonly why: string;
}

export interface ClientProfile {
  readonly id: string;
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** Every OAuth client stops here: no way in, no metadata, metadata it must not use, no code flow. */
const COMMON: readonly Rule[] = [
  {
    findings: ['mcp.reachable', 'transport.redirect', 'transport.host'],
    why: 'cannot reach the MCP endpoint',
  },
  { findings: ['transport.https'], why: 'refuses plain http outside loopback' },
  { findings: ['oauth.present'], why: 'finds no OAuth to sign in with' },
  { findings: ['mcp.challenge'], why: 'gets no usable 401 challenge to start OAuth from' },
  { findings: ['as.discovery', 'as.issuer'], why: 'finds no authorization server metadata it may use' },
  {
    findings: ['as.endpoints', 'as.pkce', 'as.grant-types'],
    why: 'cannot run the authorization code flow with PKCE',
  },
  { findings: ['as.scopes'], why: 'asks for scopes the server rejects' },
  { findings: ['prm.authorization-servers'], why: 'finds no authorization server' },
  { findings: ['dry-run.register', 'dry-run.authorize'], why: 'cannot get to the login page' },
];

/** Clients that follow the challenge's resource_metadata, then the path form, then the root form. */
const READS_HEADER_THEN_PATH: readonly Rule[] = [
  { findings: ['mcp.challenge-origin'], why: "fetches the metadata at the challenge's other origin" },
  { findings: ['prm.path', 'prm.resource.path'], why: 'discards the protected-resource metadata' },
];

const NEEDS_DCR: Rule = {
  findings: ['as.dcr'],
  on: ['fail', 'warn'],
  why: 'registers only dynamically (no CIMD): needs a registration endpoint',
};
const NEEDS_DCR_OR_CIMD: Rule = { findings: ['as.dcr'], why: 'needs DCR or CIMD to get a client id' };
const NEEDS_NONE: Rule = {
  findings: ['as.auth-none'],
  why: 'registers as a public client (token_endpoint_auth_method none)',
};
const ENFORCES_ISS: Rule = {
  findings: ['dry-run.iss'],
  why: 'rejects authorization responses without the advertised iss (RFC 9207)',
};
const IN_BROWSER: Rule = {
  findings: ['browser.origin-self', 'browser.preflight', 'browser.expose', 'browser.oauth-cors'],
  on: ['fail', 'warn'],
  why: 'runs in a browser: needs its Origin accepted and CORS on /mcp and the OAuth endpoints',
};

export const CLIENT_PROFILES: readonly ClientProfile[] = [
  {
    id: 'claude-code',
    name: 'Claude Code',
    rules: [...COMMON, ...READS_HEADER_THEN_PATH, NEEDS_DCR, NEEDS_NONE],
  },
  {
    id: 'claude-desktop',
    name: 'Claude Desktop (mcp-remote 0.15)',
    rules: [...COMMON, ...READS_HEADER_THEN_PATH, NEEDS_DCR],
  },
  {
    id: 'vscode',
    name: 'VS Code',
    rules: [...COMMON, ...READS_HEADER_THEN_PATH, NEEDS_DCR_OR_CIMD, NEEDS_NONE],
  },
  {
    id: 'cursor',
    name: 'Cursor',
    rules: [
      ...COMMON,
      { findings: ['mcp.challenge-origin'], why: "fetches the metadata at the challenge's other origin" },
      {
        findings: ['prm.root', 'prm.resource.root'],
        on: ['fail', 'warn'],
        when: (get) => get('mcp.challenge')?.status !== 'pass',
        why: 'without resource_metadata in the challenge it reads only the root-form metadata',
      },
      {
        findings: ['prm.resource.path'],
        when: (get) => get('mcp.challenge')?.status === 'pass',
        why: 'discards the protected-resource metadata',
      },
      NEEDS_DCR,
      NEEDS_NONE,
    ],
  },
  {
    id: 'inspector',
    name: 'MCP Inspector 2.12 (web)',
    rules: [...COMMON, ...READS_HEADER_THEN_PATH, NEEDS_DCR_OR_CIMD, NEEDS_NONE, ENFORCES_ISS, IN_BROWSER],
  },
  {
    id: 'sdk-v1',
    name: 'TypeScript SDK v1 client',
    rules: [...COMMON, ...READS_HEADER_THEN_PATH, NEEDS_DCR],
  },
  {
    id: 'sdk-v2',
    name: 'TypeScript SDK v2 client',
    rules: [...COMMON, ...READS_HEADER_THEN_PATH, NEEDS_DCR_OR_CIMD, ENFORCES_ISS],
  },
];

export interface Blocker {
  readonly finding: string;
  readonly status: Status;
  readonly why: string;
  readonly fix?: string;
}

export interface ProfileResult {
  readonly id: string;
  readonly name: string;
  /** ok: nothing in the way; at-risk: only warnings in the way; broken: a failure stops it. */
  readonly status: 'ok' | 'at-risk' | 'broken';
  readonly blockers: readonly Blocker[];
}

export function judgeProfiles(findings: Findings): ProfileResult[] {
  const get = (id: string) => findings.get(id);
  return CLIENT_PROFILES.map((profile) => {
    const blockers: Blocker[] = [];
    for (const rule of profile.rules) {
      const statuses = rule.on ?? ['fail'];
      for (const id of rule.findings) {
        const finding = get(id);
        if (!finding || !statuses.includes(finding.status) || (rule.when && !rule.when(get))) continue;
        if (blockers.some((b) => b.finding === id)) continue;
        blockers.push({
          finding: id,
          status: finding.status,
          why: rule.why,
          ...(finding.fix ? { fix: finding.fix } : {}),
        });
      }
    }
    // Failures first: they are what stops the client; warnings only put it at risk.
    blockers.sort((a, b) => Number(b.status === 'fail') - Number(a.status === 'fail'));
    const status = blockers.some((b) => b.status === 'fail') ? 'broken' : blockers.length ? 'at-risk' : 'ok';
    return { id: profile.id, name: profile.name, status, blockers };
  });
}
