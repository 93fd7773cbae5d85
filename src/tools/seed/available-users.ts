import { z } from 'zod';
import { PUBLIC } from '../../access/policy.ts';
import { defineTool, textResult } from '../define-tool.ts';

/** Demo mode only: the seed's walkthrough lists its test accounts so a newcomer can sign in at once. */
export const availableUsers = defineTool({
  name: 'available_users',
  title: 'Demo users',
  description: 'Lists the demo accounts you can sign in with (demo mode only).',
  input: z.object({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  access: PUBLIC,
  demoOnly: true,
  run(_args, { services }) {
    const users = services.demoUsers();
    const lines = users.map(
      (u) =>
        `👤 **${u.username}** / ${u.password}\n   Name: ${u.name}\n   Email: ${u.email}\n   Role: ${u.role}`,
    );
    return textResult(`👥 Available Test Users (demo only):\n\n${lines.join('\n\n')}`, {
      users: users.map(({ username, password, name, email, role }) => ({
        username,
        password,
        name,
        email,
        role,
      })),
    });
  },
});
