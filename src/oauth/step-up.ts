/**
 * Step-up for clients that answer `403 insufficient_scope` with a refresh.
 *
 * A refresh can never widen a grant (RFC 6749 §6: the scope "MUST NOT include any scope not
 * originally granted"). The v2 SDK client knows this and authorizes again; the v1 SDK client
 * (`@modelcontextprotocol/sdk` 1.x, embedded by the MCP Inspector CLI and many hosts) refreshes
 * instead — without a `scope` parameter — gets a token with the same scopes, meets the same 403 and
 * gives up. Its `auth()` does start a new authorization, with the challenged scope, when the refresh
 * answers `invalid_grant` (it then drops only its tokens, keeping its registration).
 *
 * So the resource server notes each step-up challenge on the grant (`grants.noteStepUp`), and the
 * first refresh under that grant within `STEP_UP_WINDOW_MS` whose refresh token cannot cover the
 * challenged scopes is refused with `invalid_grant`: this grant, as it stands, is not good for what
 * the client is trying to do, and only a new authorization (with the user's consent) can change
 * that. The refresh token itself is left valid (not consumed), the note answers one refresh only, and
 * a refresh that already covers the scopes (the user stepped up some other way) passes. Clients that
 * re-authorize on 403 (the v2 SDK, Claude Code, VS Code) never refresh in that window, so they never
 * meet this answer.
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { missingScopes } from '../access/scopes.ts';
import type { Logger } from '../observability/logger.ts';
import { grantSidecarReadBy } from './adapter.ts';
import type { GrantService } from './grants.ts';

/** oidc-provider `rotateRefreshToken`: refuses the refresh that answers a step-up, else rotates. */
export function rotateUnlessSteppingUp(
  grants: Pick<GrantService, 'takeStepUp'>,
  logger: Logger,
): (ctx: KoaContextWithOIDC) => Promise<boolean> {
  return async (ctx) => {
    const refreshToken = ctx.oidc.entities.RefreshToken;
    const grantId = refreshToken?.grantId;
    if (!refreshToken || !grantId) return true;
    // oidc-provider read the grant row moments ago in this request: with no unanswered note on it
    // there is nothing to take, and no second read of the row (a refresh's hottest path).
    const read = grantSidecarReadBy(ctx, grantId);
    const note = read?.sidecar?.stepUp;
    if (read !== undefined && (note === undefined || note.answered === true)) return true;
    const pending = await grants.takeStepUp(grantId);
    if (pending === undefined) return true;
    const missing = missingScopes(new Set(refreshToken.scopes), pending);
    if (missing.length === 0) return true;
    logger.info(
      { clientId: refreshToken.clientId, scopes: missing },
      'refresh refused: the client must authorize again for the step-up',
    );
    const error = new errors.InvalidGrant('step-up pending');
    error.error_description = `this grant does not include ${missing.join(' ')}, which the resource asked for; a refresh cannot add scopes (RFC 6749 section 6): start a new authorization request`;
    throw error;
  };
}
