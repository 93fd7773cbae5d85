/**
 * Types for the few oidc-provider helpers a custom grant needs to behave like the built-in ones
 * (DPoP proof validation and binding). oidc-provider's built-in grants receive them bound; a grant
 * registered with `registerGrantType` does not, so `id-jag/grant.ts` imports them from their modules
 * (the package has no `exports` map; these files are stable across 9.x).
 */
declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC } from 'oidc-provider';
  export interface DpopResult {
    readonly thumbprint: string;
    readonly jti: string;
    readonly iat: number;
  }
  export default function validateDpop(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    accessToken?: string,
  ): Promise<DpopResult | undefined>;
}

declare module 'oidc-provider/lib/helpers/grant_common.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC } from 'oidc-provider';
  import type { DpopResult } from 'oidc-provider/lib/helpers/validate_dpop.js';
  export function applyDpopBinding(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    dPoP: DpopResult | undefined,
    token: unknown,
  ): Promise<void>;
}

declare module 'oidc-provider/lib/helpers/sender_constraints.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC } from 'oidc-provider';
  import type { DpopResult } from 'oidc-provider/lib/helpers/validate_dpop.js';
  export function checkDpopRequired(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    dPoP: DpopResult | undefined,
  ): void;
}
