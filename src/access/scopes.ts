/**
 * The scope catalogue: every OAuth scope the MCP surface uses, what it means in plain words (consent
 * pages read these), which broader scopes imply it (MCP authorization: servers MUST honour scope
 * hierarchies), and which roles may ever be granted it. Tools name scopes from here only.
 */
export type Role = 'admin' | 'user';

export interface ScopeInfo {
  readonly name: string;
  readonly description: { readonly en: string; readonly ja: string };
  /** Broader scopes that contain this one: holding any of them satisfies a requirement for this one. */
  readonly impliedBy: readonly string[];
  /** Roles that may be granted this scope; the authorization server never grants it to others. */
  readonly roles: readonly Role[];
  /** Part of the minimal set for basic use: published in PRM `scopes_supported` and the default grant. */
  readonly basic: boolean;
}

export const SCOPES = {
  tools: {
    name: 'mcp:tools',
    description: {
      en: 'Use this MCP server’s tools as you (your name, profile and sign-in status)',
      ja: 'あなたとして、この MCP サーバーのツールを使う（名前、プロフィール、サインイン状態）',
    },
    impliedBy: ['mcp:data', 'mcp:admin'],
    roles: ['admin', 'user'],
    basic: true,
  },
  data: {
    name: 'mcp:data',
    description: {
      en: 'Read your protected data (personal and financial records)',
      ja: 'あなたの保護されたデータ（個人情報、財務情報）を読む',
    },
    impliedBy: ['mcp:admin'],
    roles: ['admin', 'user'],
    basic: true,
  },
  admin: {
    name: 'mcp:admin',
    description: {
      en: 'Administer Sekisho: list and revoke other users’ sessions, see user statistics',
      ja: 'Sekisho を管理する（他のユーザーのセッションの確認と取り消し、利用状況の統計）',
    },
    impliedBy: [],
    roles: ['admin'],
    basic: false,
  },
} as const satisfies Record<string, ScopeInfo>;

export const ALL_SCOPES: readonly ScopeInfo[] = Object.values(SCOPES);

const byName = new Map<string, ScopeInfo>(ALL_SCOPES.map((s) => [s.name, s]));

export function scopeInfo(name: string): ScopeInfo | undefined {
  return byName.get(name);
}

/** True when `granted` satisfies `required`, directly or through a broader scope that implies it. */
export function hasScope(granted: ReadonlySet<string>, required: string): boolean {
  if (granted.has(required)) return true;
  const info = byName.get(required);
  return info?.impliedBy.some((broader) => granted.has(broader)) ?? false;
}

/** The scopes of `required` that `granted` does not satisfy, in declaration order. */
export function missingScopes(granted: ReadonlySet<string>, required: readonly string[]): string[] {
  return required.filter((scope) => !hasScope(granted, scope));
}

/** Scopes a user of `role` may ever hold. */
export function scopesForRole(role: Role): string[] {
  return ALL_SCOPES.filter((s) => s.roles.includes(role)).map((s) => s.name);
}
