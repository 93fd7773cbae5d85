import { z } from 'zod';
import { PUBLIC } from '../../access/policy.ts';
import { defineTool, textResult } from '../define-tool.ts';

/** Reports who the server thinks you are — a user, a service, or nobody — never the token itself. */
export const authStatus = defineTool({
  name: 'auth_status',
  title: 'Authentication status',
  description:
    'Shows who you are signed in as (a user, or a service using client credentials), through which client, with which scopes, until when.',
  input: z.object({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  access: PUBLIC,
  run(_args, { caller }) {
    if (caller.kind === 'anonymous') {
      return textResult(
        '🔐 Authentication Status:\n\nCurrent User: Anonymous\nAuthenticated: ❌ No\n\nConnect with OAuth (your MCP client starts it when a tool needs it) to sign in.',
        { authenticated: false, user: 'anonymous' },
      );
    }
    const scopes = [...caller.scopes].sort();
    const expires = new Date(caller.expiresAt * 1000).toISOString();
    const who =
      caller.kind === 'service'
        ? `Current Identity: service ${caller.name} (client credentials, no user)`
        : `Current User: ${caller.name} (${caller.username})`;
    return textResult(
      [
        '🔐 Authentication Status:',
        '',
        who,
        'Authenticated: ✅ Yes',
        `Role: ${caller.role}`,
        `Client: ${caller.clientId}`,
        `Scopes: ${scopes.join(' ') || '(none)'}`,
        `Token expires: ${expires}`,
      ].join('\n'),
      {
        authenticated: true,
        kind: caller.kind,
        ...(caller.kind === 'service' ? { service: caller.name } : { user: caller.username }),
        role: caller.role,
        clientId: caller.clientId,
        scopes,
        expiresAt: expires,
      },
    );
  },
});
