/**
 * How the benchmark obtains real credentials from a running Sekisho: access tokens minted by the
 * authorization server (the same code path the token endpoint uses), refresh tokens and
 * authorization codes for the token-endpoint scenarios. When the authorization server is not
 * present yet, scenarios run anonymously and the report says so.
 */
import type { Sekisho } from '../../src/server.ts';
import type { CommandHandler } from '../lib/ipc.ts';

export interface AuthCommands {
  readonly available: boolean;
  readonly note: string;
  readonly commands: Record<string, CommandHandler>;
}

export async function authCommands(_sekisho: Sekisho): Promise<AuthCommands> {
  return {
    available: false,
    note: 'authorization server not built yet: MCP scenarios ran anonymously',
    commands: {},
  };
}
