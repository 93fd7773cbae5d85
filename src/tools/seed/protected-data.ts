import { createHash } from 'node:crypto';
import { z } from 'zod';
import { NO_USER_DATA, signedIn } from '../../access/policy.ts';
import { SCOPES } from '../../access/scopes.ts';
import { defineTool, textResult, toolError } from '../define-tool.ts';

const categories = ['personal', 'financial', 'admin'] as const;

/**
 * The seed's protected data, made deterministic per user (a hash of the user id) so answers are
 * stable and testable instead of random on every call.
 */
export const protectedData = defineTool({
  name: 'protected_data',
  title: 'Protected data',
  description: 'Returns your protected data: personal or financial; admin data for administrators.',
  input: z.object({
    category: z.enum(categories).default('personal').describe('Category of protected data'),
  }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  access: signedIn([SCOPES.data.name]),
  accessFor: ({ category }) => (category === 'admin' ? signedIn([SCOPES.admin.name], 'admin') : undefined),
  async run({ category }, { caller, services }) {
    if (caller.kind === 'service') return toolError(NO_USER_DATA);
    if (caller.kind !== 'user') return toolError('Sign in first.');
    const n = digits(caller.userId);
    let body: string;
    let data: Record<string, unknown>;
    if (category === 'personal') {
      data = {
        phone: `+1-555-0${String(n % 1000).padStart(3, '0')}`,
        address: `${n % 9999} Main St, Anytown`,
        birthday: `19${70 + (n % 30)}-0${1 + (n % 9)}-1${n % 10}`,
      };
      body = `📋 Personal Data for ${caller.name}:\n• Phone: ${data.phone}\n• Address: ${data.address}\n• Birthday: ${data.birthday}`;
    } else if (category === 'financial') {
      data = {
        accountBalance: Number(((n % 10_000_000) / 100).toFixed(2)),
        creditScore: 650 + (n % 200),
        lastTransaction: `$${((n % 50_000) / 100).toFixed(2)}`,
      };
      body = `💰 Financial Data for ${caller.name}:\n• Account Balance: $${data.accountBalance}\n• Credit Score: ${data.creditScore}\n• Last Transaction: ${data.lastTransaction}`;
    } else {
      const stats = await services.userStats();
      data = {
        ...stats,
        uptimeSeconds: Math.round(process.uptime()),
        heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1048576),
      };
      body = `⚡ Admin Data:\n• Users: ${stats.users} (${stats.admins} admins)\n• Active grants: ${stats.activeGrants}\n• Registered clients: ${stats.clients}\n• Server Uptime: ${data.uptimeSeconds} seconds\n• Memory Usage: ${data.heapUsedMb} MB`;
    }
    return textResult(
      `🛡️ Protected Data Access:\n\n${body}\n\nAccessed by: ${caller.name} (${caller.username})\nAccess Time: ${new Date().toISOString()}\nData Category: ${category}`,
      { category, accessedBy: caller.username, data },
    );
  },
});

function digits(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0);
}
