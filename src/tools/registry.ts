/**
 * The tool registry: the seed's tools, filtered once at start-up by mode (demo-only tools need demo
 * mode). Everything that depends on tool requirements — tools/list per caller, challenges, PRM
 * `scopes_supported`, consent wording — asks this registry rather than keeping its own list.
 */

import { type Caller, mayEverUse } from '../access/policy.ts';
import { ALL_SCOPES } from '../access/scopes.ts';
import type { Config } from '../config/config.ts';
import type { AnyTool } from './define-tool.ts';
import { adminPanel } from './seed/admin-panel.ts';
import { authStatus } from './seed/auth-status.ts';
import { availableUsers } from './seed/available-users.ts';
import { helloWorld } from './seed/hello-world.ts';
import { oauthInfo } from './seed/oauth-info.ts';
import { protectedData } from './seed/protected-data.ts';
import { quickLogin } from './seed/quick-login.ts';
import { userProfile } from './seed/user-profile.ts';

export const SEED_TOOLS: readonly AnyTool[] = [
  helloWorld,
  authStatus,
  availableUsers,
  quickLogin,
  userProfile,
  protectedData,
  oauthInfo,
  adminPanel,
];

export interface ToolRegistry {
  readonly tools: readonly AnyTool[];
  get(name: string): AnyTool | undefined;
  /**
   * The tools this caller may see: for a signed-in user, those usable now or after a step-up their
   * role allows; for an anonymous caller, every tool — the ones that need an account say so
   * (`describeFor`) and answer 401 when called, which is what makes a client start OAuth.
   */
  visibleTo(caller: Caller): readonly AnyTool[];
  /** Every scope some tool requires (for the authorization server's scope list). */
  readonly scopes: readonly string[];
  /** The minimal scope set for basic use (PRM `scopes_supported`, default grant). Never offline_access. */
  readonly basicScopes: readonly string[];
}

export function createToolRegistry(
  config: Pick<Config, 'demo'>,
  tools: readonly AnyTool[] = SEED_TOOLS,
): ToolRegistry {
  const active = Object.freeze(tools.filter((t) => !t.demoOnly || config.demo));
  const byName = new Map(active.map((t) => [t.name, t]));
  if (byName.size !== active.length) throw new TypeError('tool names must be unique');
  const required = new Set(active.flatMap((t) => (t.access.kind === 'user' ? t.access.scopes : [])));
  // A signed-in caller's visible set depends on their role only (`mayEverUse`: a missing scope still
  // shows the tool, to step up), so it is filtered once per role rather than on every request.
  const byRole = new Map<string, readonly AnyTool[]>();
  return {
    tools: active,
    get: (name) => byName.get(name),
    visibleTo: (caller) => {
      if (caller.kind === 'anonymous') return active;
      let visible = byRole.get(caller.role);
      if (visible === undefined) {
        visible = Object.freeze(active.filter((t) => mayEverUse(t.access, caller)));
        byRole.set(caller.role, visible);
      }
      return visible;
    },
    scopes: Object.freeze(ALL_SCOPES.map((s) => s.name).filter((s) => required.has(s))),
    basicScopes: Object.freeze(ALL_SCOPES.filter((s) => s.basic && required.has(s.name)).map((s) => s.name)),
  };
}
