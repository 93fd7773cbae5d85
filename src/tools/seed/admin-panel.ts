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
  async run({ action, target }, { caller, config, services, interaction }) {
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
      const refuse = async (reason: string, message: string) => {
        await services.recordAdminAction(caller, action, 'failure', { target, reason });
        return toolError(message);
      };
      const matching = (await services.listGrants()).filter((g) => g.grantId.startsWith(target));
      const grant = matching[0];
      if (matching.length > 1)
        return refuse('ambiguous', `❌ ${target}… matches more than one grant; give more characters.`);
      if (!grant) return refuse('not_found', `❌ No grant starts with ${target}.`);
      // Destructive and irreversible: ask the admin first when their client can be asked.
      const answer = await interaction.confirm({
        key: 'confirm_revoke',
        message: `Revoke ${grant.username}'s authorization of ${grant.clientName ?? grant.clientId} (grant ${grant.grantId.slice(0, 12)}…)? Its access and refresh tokens stop working at once.`,
        label: 'Revoke this authorization',
      });
      if (answer === 'declined') {
        await services.recordAdminAction(caller, action, 'failure', { target, reason: 'declined' });
        return textResult(`↩️ Not revoked: grant ${grant.grantId.slice(0, 12)}… stays active.`, {
          action,
          revoked: [],
          confirmed: false,
        });
      }
      const { revoked, ambiguous } = await services.revokeGrants(target, caller);
      if (ambiguous)
        return refuse('ambiguous', `❌ ${target}… matches more than one grant; give more characters.`);
      if (revoked.length === 0) return refuse('not_found', `❌ No grant starts with ${target}.`);
      body = `✅ Grant ${revoked[0]} revoked: its access and refresh tokens stop working now.`;
      data = { revoked, ...(answer === 'confirmed' && { confirmed: true }) };
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
