/** What every command gets: the opened storage and identity, output, the config and parsed options. */
import type { Audit } from '../audit/audit.ts';
import type { Config } from '../config/config.ts';
import type { Identity } from '../identity/users.ts';
import type { ManagedStorage } from '../storage/open.ts';
import type { Output } from './output.ts';

export interface CommandContext {
  readonly config: Config;
  /** The configured storage: PostgreSQL (SEKISHO_DATABASE_URL) or SQLite (SEKISHO_DATA_DIR / --data-dir). */
  readonly storage: ManagedStorage;
  readonly identity: Identity;
  /** The audit log, recording as this operator (`cli`, the OS account name). */
  readonly audit: Audit;
  readonly io: Output;
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

export interface Command {
  /** Commands over storage have no kind; see HttpCommand. */
  readonly kind?: undefined;
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
  /**
   * True for commands about the built-in authorization server (clients, grants, signing keys, the
   * enterprise identity links of ID-JAG): they refuse in resource-server-only mode
   * (SEKISHO_EXTERNAL_ISSUER), where another server owns these.
   */
  readonly needsAuthorizationServer?: boolean;
  /** False: open storage without applying migrations (`db status`, `db migrate`). Default true. */
  readonly migrates?: boolean;
  /** Settings the command's options override (e.g. `db copy --to` is SEKISHO_DATABASE_URL). */
  configFromOptions?(options: Readonly<Record<string, string | boolean | undefined>>): Record<string, string>;
  run(ctx: CommandContext): Promise<void>;
}

/** What a command that only talks HTTP gets (no config, no storage: it judges a deployment from outside). */
export interface HttpCommandContext {
  readonly io: Output;
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

/** A command that opens no storage and reads no server settings (`doctor`). */
export interface HttpCommand {
  readonly kind: 'http';
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, { type: 'string' | 'boolean' }>>;
  run(ctx: HttpCommandContext): Promise<void>;
}
