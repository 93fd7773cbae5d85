import { z } from 'zod';
import { NO_USER_DATA, signedIn } from '../../access/policy.ts';
import { SCOPES } from '../../access/scopes.ts';
import { defineTool, textResult, toolError } from '../define-tool.ts';

export const userProfile = defineTool({
  name: 'user_profile',
  title: 'Your profile',
  description: 'Returns the signed-in user’s profile.',
  input: z.object({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  access: signedIn([SCOPES.tools.name]),
  async run(_args, { caller, services }) {
    if (caller.kind === 'service') return toolError(NO_USER_DATA);
    if (caller.kind !== 'user') return toolError('Sign in first.');
    // An external authorization server's user has no local account: the token is the profile.
    const user =
      caller.issuer !== undefined
        ? {
            id: caller.userId,
            username: caller.username,
            name: caller.name,
            email: caller.email,
            role: caller.role,
          }
        : await services.findUser(caller.userId);
    if (!user) return toolError('Your account no longer exists.');
    return textResult(
      [
        '👤 User Profile:',
        '',
        '**Personal Information:**',
        `• ID: ${user.id}`,
        `• Username: ${user.username}`,
        `• Name: ${user.name}`,
        `• Email: ${user.email}`,
        `• Role: ${user.role}`,
        '',
        '**Session:**',
        `• Client: ${caller.clientId}`,
        `• Scopes: ${[...caller.scopes].sort().join(' ')}`,
        `• Token expires: ${new Date(caller.expiresAt * 1000).toISOString()}`,
      ].join('\n'),
      { id: user.id, username: user.username, name: user.name, email: user.email, role: user.role },
    );
  },
});
