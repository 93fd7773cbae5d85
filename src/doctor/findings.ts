/** What the doctor reports: one finding per check, grouped, each failure with how to fix it. */

export type Status = 'pass' | 'warn' | 'fail' | 'skip';

export type Group = 'transport' | 'discovery' | 'authorization-server' | 'browser' | 'keys' | 'dry-run';

export const GROUP_TITLES: Readonly<Record<Group, string>> = {
  transport: 'Transport (HTTPS, redirects, Host)',
  discovery: 'Discovery (401 challenge, protected-resource metadata)',
  'authorization-server': 'Authorization server metadata',
  browser: 'Browser clients (Origin, CORS)',
  keys: 'Signing keys and clock',
  'dry-run': 'Registration and sign-in dry run',
};

export interface Finding {
  /** Stable id, e.g. `prm.resource`; profiles and CI scripts refer to it. */
  readonly id: string;
  readonly group: Group;
  readonly status: Status;
  readonly title: string;
  /** What was seen (never a token, secret or cookie). */
  readonly detail?: string;
  /** For warn/fail: what to change, naming the Sekisho setting where there is one. */
  readonly fix?: string;
}

/** Collects findings in order; later checks read earlier ones. */
export class Findings {
  private readonly list: Finding[] = [];

  add(finding: Finding): Finding {
    this.list.push(finding);
    return finding;
  }

  pass(group: Group, id: string, title: string, detail?: string): Finding {
    return this.add({ id, group, status: 'pass', title, ...(detail ? { detail } : {}) });
  }

  warn(group: Group, id: string, title: string, detail: string | undefined, fix: string): Finding {
    return this.add({ id, group, status: 'warn', title, ...(detail ? { detail } : {}), fix });
  }

  fail(group: Group, id: string, title: string, detail: string | undefined, fix: string): Finding {
    return this.add({ id, group, status: 'fail', title, ...(detail ? { detail } : {}), fix });
  }

  skip(group: Group, id: string, title: string, detail: string): Finding {
    return this.add({ id, group, status: 'skip', title, detail });
  }

  get(id: string): Finding | undefined {
    return this.list.find((f) => f.id === id);
  }

  all(): readonly Finding[] {
    return [...this.list];
  }
}

/** Sekisho settings named in fixes (docs/configuration.md). */
export const SETTING = {
  baseUrl: 'SEKISHO_BASE_URL',
  allowedHosts: 'SEKISHO_ALLOWED_HOSTS',
  allowedOrigins: 'SEKISHO_ALLOWED_ORIGINS',
} as const;
