/**
 * Reading and deleting oidc-provider `Grant` rows at the storage level, with no oidc-provider import,
 * so the ops CLI (which runs beside the server) and the authorization server share one reading of a
 * grant. oidc-provider keeps what was granted and what was rejected side by side on the row
 * (`resources[aud]`, `openid.scope`, `rejected.…`); the effective scopes are granted minus rejected.
 */
import type { OidcPayload, Storage } from '../storage/types.ts';

export interface GrantedScopes {
  /** Scopes per RFC 8707 resource (audience). */
  readonly byResource: ReadonlyMap<string, readonly string[]>;
  /** OpenID Connect scopes (openid, profile, email, offline_access). */
  readonly openid: readonly string[];
}

export function grantedScopes(payload: OidcPayload): GrantedScopes {
  const rejected = (payload.rejected ?? {}) as {
    openid?: { scope?: unknown };
    resources?: Record<string, unknown>;
  };
  const byResource = new Map<string, string[]>();
  const resources = (payload.resources ?? {}) as Record<string, unknown>;
  for (const [aud, value] of Object.entries(resources)) {
    const no = new Set(split(rejected.resources?.[aud]));
    byResource.set(
      aud,
      split(value).filter((s) => !no.has(s)),
    );
  }
  const noOpenid = new Set(split(rejected.openid?.scope));
  const openid = split((payload.openid as { scope?: unknown } | undefined)?.scope).filter(
    (s) => !noOpenid.has(s),
  );
  return { byResource, openid };
}

/** Deletes a grant and every row issued under it (tokens, codes), even if the Grant row already expired. */
export async function revokeGrantRows(
  storage: Pick<Storage, 'revokeByGrantId' | 'destroy'>,
  grantId: string,
) {
  await storage.revokeByGrantId(grantId);
  await storage.destroy('Grant', grantId);
}

function split(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}
