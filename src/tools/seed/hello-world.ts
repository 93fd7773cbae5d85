import { z } from 'zod';
import { PUBLIC } from '../../access/policy.ts';
import { defineTool, textResult } from '../define-tool.ts';

export const helloWorld = defineTool({
  name: 'hello_world',
  title: 'Hello, world',
  description:
    'Greets you by name (the signed-in user’s, unless you pass one) and says whether you are signed in.',
  input: z.object({ name: z.string().max(200).optional().describe('Name to greet (optional)') }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  access: PUBLIC,
  run({ name }, { caller }) {
    const who = name ?? (caller.kind !== 'anonymous' ? caller.name : 'World');
    const status = caller.kind !== 'anonymous' ? '🔐 Authenticated' : '🔓 Anonymous';
    return textResult(
      `Hello, ${who}! (${status})\n\nServer: Sekisho\nTimestamp: ${new Date().toISOString()}`,
      {
        greeting: `Hello, ${who}!`,
        authenticated: caller.kind !== 'anonymous',
      },
    );
  },
});
