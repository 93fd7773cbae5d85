import { z } from 'zod';
import { signedIn } from '../../access/policy.ts';
import { SCOPES } from '../../access/scopes.ts';
import { defineTool, textResult, toolError } from '../define-tool.ts';

export const adminPanel = defineTool({
  name: 'admin_panel',
  title: 'Admin panel',
  description:
    'Administrator functions: list_tokens (active grants), revoke_token (revoke a grant by id prefix), user_stats.',
  input: z.object({
    action: z
      .enum(['list_tokens', 'revoke_token', 'user_stats'])
      .default('list_tokens')
      .describe('Admin action to perform'),
    target: z
      .string()
      .min(4)
      .max(100)
      .optional()
      .describe('Grant id prefix, for revoke_token (at least 4 characters)'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
  access: signedIn([SCOPES.admin.name], 'admin'),
  async run({ action, target }, { caller, config, services }) {
    if (caller.kind === 'anonymous') return toolError('Sign in first.');
    if (services.externalIssuer !== undefined) {
      return toolError(
        `Users and sessions are managed by the authorization server ${services.externalIssuer}: list and revoke them there.`,
      );
    }
    let body: string;
    let data: Record<string, unknown>;
    if (action === 'list_tokens') {
      const grants = await services.listGrants();
      body =
        grants
          .map(
            (g) =>
              `• ${g.grantId.slice(0, 12)}… — ${g.username} via ${g.clientName ?? g.clientId} [${g.scopes.join(' ')}] (grant expires: ${g.expiresAt ? new Date(g.expiresAt * 1000).toISOString() : 'never'})`,
          )
          .join('\n') || 'No active grants';
      // A grant is the user's authorization of a client; its access tokens are short-lived and are
      // renewed by refresh tokens until the grant expires (quick_login grants have no refresh token
      // and expire with their one access token).
      const minutes = Math.round(config.accessTokenTtlSeconds / 60);
      body = `🎫 Active Grants:\n\n${body}\n\nEach access token lasts ${minutes} min; clients renew them with refresh tokens until the grant expires.`;
      data = {
        grants: grants.map((g) => ({ ...g })),
        accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      };
    } else if (action === 'revoke_token') {
      if (!target)
        return toolError(
          '❌ revoke_token needs a target: the first characters of a grant id (see list_tokens).',
        );
      const { revoked, ambiguous } = await services.revokeGrants(target, caller);
      if (ambiguous || revoked.length === 0) {
        await services.recordAdminAction(caller, action, 'failure', {
          target,
          reason: ambiguous ? 'ambiguous' : 'not_found',
        });
        return toolError(
          ambiguous
            ? `❌ ${target}… matches more than one grant; give more characters.`
            : `❌ No grant starts with ${target}.`,
        );
      }
      body = `✅ Grant ${revoked[0]} revoked: its access and refresh tokens stop working now.`;
      data = { revoked };
    } else {
      const stats = await services.userStats();
      body = `📊 User Statistics:\n\n• Users: ${stats.users} (${stats.admins} admins)\n• Active grants: ${stats.activeGrants}\n• Registered clients: ${stats.clients}`;
      data = { ...stats };
    }
    await services.recordAdminAction(caller, action, 'success', action === 'revoke_token' ? { target } : {});
    return textResult(
      `⚡ Admin Panel - ${action}:\n\n${body}\n\nExecuted by: ${caller.name}${caller.kind === 'service' ? ' (service)' : ''}\nTimestamp: ${new Date().toISOString()}`,
      { action, ...data },
    );
  },
});
