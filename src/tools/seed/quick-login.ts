import { z } from 'zod';
import { PUBLIC } from '../../access/policy.ts';
import { defineTool, textResult, toolError } from '../define-tool.ts';

/**
 * Demo mode only. Mints a real access token through the authorization server (audience-bound to
 * /mcp, short-lived, revocable) so the seed's MCP Inspector walkthrough works: copy it, paste it
 * as a Bearer token, reconnect.
 */
export const quickLogin = defineTool({
  name: 'quick_login',
  title: 'Quick login (demo)',
  description:
    '🔐 Quick login with a demo account (inspector/inspector123, admin/admin123, demo/demo123); returns a Bearer token to paste into your client.',
  input: z.object({
    username: z.string().min(1).max(100).describe('Username'),
    password: z.string().min(1).max(200).describe('Password'),
  }),
  annotations: { readOnlyHint: false, openWorldHint: false },
  access: PUBLIC,
  demoOnly: true,
  async run({ username, password }, { services, config }) {
    const result = await services.quickLogin(username, password);
    if (!result.ok && result.reason !== 'invalid') {
      const why =
        result.reason === 'busy'
          ? 'Too many sign-ins are being checked right now.'
          : 'Too many sign-in attempts from your address.';
      return toolError(`⏳ ${why} Try again in ${result.retryAfterSeconds} s.`);
    }
    if (!result.ok) {
      return toolError(
        `❌ Login failed for user: ${username}\n\nCall available_users to see the demo accounts.`,
      );
    }
    return textResult(
      [
        '✅ Login successful!',
        '',
        `User: ${result.user.name} (${result.user.username})`,
        `Access Token: ${result.accessToken}`,
        `Expires in: ${result.expiresIn} s   Scopes: ${result.scope}`,
        '',
        '🔑 To use this token:',
        '1. Copy the access token above',
        `2. In your MCP client, set the header  Authorization: Bearer <token>  for ${config.baseUrl}/mcp`,
        '3. Reconnect — the tools for your account appear',
      ].join('\n'),
      {
        access_token: result.accessToken,
        token_type: 'Bearer',
        expires_in: result.expiresIn,
        scope: result.scope,
        user: { ...result.user },
      },
    );
  },
});
