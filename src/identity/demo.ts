/**
 * Demo mode only: the seed article's three test accounts, so `npm start` can be tried at once with
 * MCP Inspector. Never created outside demo mode; the banner and `available_users` mark them as
 * demo-only. Their passwords are public, so they are below the normal password policy on purpose.
 */
import type { Role } from '../access/scopes.ts';
import type { Identity, User } from './users.ts';

export interface DemoCredential {
  readonly username: string;
  readonly password: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
}

export const DEMO_USERS: readonly DemoCredential[] = Object.freeze([
  {
    username: 'inspector',
    password: 'inspector123',
    name: 'MCP Inspector User',
    email: 'inspector@mcp.test',
    role: 'admin',
  },
  { username: 'admin', password: 'admin123', name: 'Admin User', email: 'admin@example.com', role: 'admin' },
  { username: 'demo', password: 'demo123', name: 'Demo User', email: 'demo@example.com', role: 'user' },
]);

/**
 * Creates any demo user that does not exist yet (idempotent: an existing account, even one whose
 * password an operator changed, is left alone). Returns every demo user with its demo password.
 */
export async function seedDemoUsers(identity: Identity): Promise<(User & { readonly password: string })[]> {
  const out: (User & { password: string })[] = [];
  for (const demo of DEMO_USERS) {
    let user = await identity.findByUsername(demo.username);
    if (!user) {
      try {
        user = await identity.addUser(demo, { allowWeakPassword: true });
      } catch (error) {
        // Another process (a second server, the CLI) seeded it between our look-up and insert.
        user = await identity.findByUsername(demo.username);
        if (!user) throw error;
      }
    }
    out.push({ ...user, password: demo.password });
  }
  return out;
}
