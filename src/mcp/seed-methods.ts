/**
 * The seed's two non-standard JSON-RPC methods, kept in demo mode so its walkthrough still works:
 *
 *  - `auth/quick_login {username, password}` → a real access token for a demo account, minted by our
 *    authorization server (audience-bound to /mcp, short-lived, revocable), same as the quick_login tool;
 *  - `auth/token_login {token}` → who that token belongs to, if it is still valid.
 *
 * They are custom request methods (the SDK routes any method name in both protocol eras), not part of
 * MCP: standard clients never call them, and they never bypass the bearer gate — with anonymous access
 * off, calling them needs a token like any other request. The standard route is OAuth.
 */
import { type McpServer, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolServices } from '../tools/services.ts';

const quickLoginParams = z.object({ username: z.string().max(100), password: z.string().max(200) });
const tokenLoginParams = z.object({ token: z.string().max(8192) });

export function registerSeedAuthMethods(server: McpServer, services: ToolServices): void {
  server.server.setRequestHandler(
    'auth/quick_login',
    { params: quickLoginParams },
    async ({ username, password }) => {
      const result = await services.quickLogin(username, password);
      if (!result.ok && result.reason !== 'invalid') {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidRequest,
          result.reason === 'busy' ? 'Sign-in is busy; retry shortly' : 'Too many sign-in attempts',
          { retry_after_seconds: result.retryAfterSeconds },
        );
      }
      if (!result.ok) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid credentials', {
          available_users: services.demoUsers().map((u) => u.username),
          hint: 'Call the available_users tool for the demo accounts.',
        });
      }
      return {
        success: true,
        access_token: result.accessToken,
        token_type: 'Bearer',
        expires_in: result.expiresIn,
        scope: result.scope,
        user: {
          id: result.user.id,
          username: result.user.username,
          name: result.user.name,
          email: result.user.email,
        },
      };
    },
  );
  server.server.setRequestHandler('auth/token_login', { params: tokenLoginParams }, async ({ token }) => {
    const user = await services.tokenUser(token);
    if (!user) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid or expired token');
    return {
      success: true,
      user: { id: user.id, username: user.username, name: user.name, email: user.email },
    };
  });
}
