/** What every command gets: the opened storage and identity, output, the config and parsed options. */
import type { Config } from '../config/config.ts';
import type { Identity } from '../identity/users.ts';
import type { Storage } from '../storage/types.ts';
import type { Output } from './output.ts';

export interface CommandContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly identity: Identity;
  readonly io: Output;
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

export interface Command {
  /** e.g. "users add" */
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  /** Positionals after the command words: exactly this many (names for the usage message). */
  readonly args: readonly string[];
  /** Options this command accepts beyond the global ones. */
  readonly options: Readonly<Record<string, { type: 'string' | 'boolean' }>>;
  /** False for commands that only read: they refuse to create a database that is not there. */
  readonly mayCreateDatabase: boolean;
  run(ctx: CommandContext): Promise<void>;
}
