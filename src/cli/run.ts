/**
 * The `sekisho` ops CLI: parse, dispatch, map failures to exit codes (0 ok, 1 operational failure,
 * 2 usage error). It opens the same storage as the server (storage/open.ts): PostgreSQL when
 * SEKISHO_DATABASE_URL is set, else the SQLite file under SEKISHO_DATA_DIR or --data-dir (WAL and
 * busy_timeout make that safe while the server runs).
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { createAudit } from '../audit/audit.ts';
import { composeStorage } from '../cluster/compose-storage.ts';
import { openSharedState, type SharedStateHandle } from '../cluster/shared-state.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { createIdentity } from '../identity/users.ts';
import { SchemaVersionError } from '../storage/errors.ts';
import { openStorage } from '../storage/open.ts';
import { RedisUnreachableError } from '../storage/redis/connection.ts';
import { sqliteFileFor } from '../storage/sqlite/index.ts';
import { audit } from './commands/audit.ts';
import { dbCopy, dbMigrate, dbStatus } from './commands/db.ts';
import { doctor } from './commands/doctor.ts';
import {
  clientsAdd,
  clientsList,
  clientsRemove,
  grantsList,
  grantsRevoke,
  keysList,
  keysRotate,
} from './commands/oauth.ts';
import {
  usersAdd,
  usersDisable,
  usersEnable,
  usersLink,
  usersLinks,
  usersList,
  usersPasswd,
  usersRemove,
  usersRole,
  usersUnlink,
} from './commands/users.ts';
import type { Command, HttpCommand } from './context.ts';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, toCliError, UsageError } from './errors.ts';
import { type Output, processOutput } from './output.ts';

export const COMMANDS: readonly (Command | HttpCommand)[] = [
  usersAdd,
  usersList,
  usersRemove,
  usersPasswd,
  usersRole,
  usersDisable,
  usersEnable,
  usersLink,
  usersUnlink,
  usersLinks,
  clientsAdd,
  clientsList,
  clientsRemove,
  grantsList,
  grantsRevoke,
  keysList,
  keysRotate,
  audit,
  dbStatus,
  dbMigrate,
  dbCopy,
  doctor,
];

const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function helpText(): string {
  return [
    'Usage: sekisho <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.flatMap((c) => [`  sekisho ${c.usage}`, `      ${c.summary}`]),
    '',
    'Global options:',
    '  --data-dir <dir>   SQLite database folder (default: SEKISHO_DATA_DIR, else ./data)',
    '',
    'Storage: PostgreSQL when SEKISHO_DATABASE_URL is set (as for the server), else SQLite.',
    '  --json             machine-readable output',
    '  -h, --help         this help',
    '',
    'Exit codes: 0 ok, 1 failed (e.g. no such user), 2 usage error.',
  ].join('\n');
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly io?: Output;
}

export async function runCli(argv: readonly string[], opts: RunOptions = {}): Promise<number> {
  const io = opts.io ?? processOutput;
  try {
    return await dispatch(argv, opts.env ?? process.env, io);
  } catch (error) {
    const cliError = toCliError(error);
    if (cliError) {
      io.err(`sekisho: ${cliError.message}`);
      if (cliError.exitCode === EXIT_USAGE && error instanceof UsageError)
        io.err("Run 'sekisho --help' for usage.");
      return cliError.exitCode;
    }
    if (error instanceof ConfigError) {
      io.err(`sekisho: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof SchemaVersionError) {
      io.err(`sekisho: ${error.message}`);
      return EXIT_FAILURE;
    }
    const err = error as NodeJS.ErrnoException;
    io.err(
      `sekisho: ${err?.code === 'SQLITE_BUSY' ? 'the database is busy; try again' : (err?.message ?? String(error))}`,
    );
    return EXIT_FAILURE;
  }
}

async function dispatch(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: Output,
): Promise<number> {
  // A lenient first pass that knows every option's type, so `--data-dir /x users list` finds the words.
  const allOptions = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options));
  const found = parseArgs({
    args: [...argv],
    options: allOptions,
    allowPositionals: true,
    strict: false,
  }).positionals;
  const words = found.slice(0, 2).join(' ');
  const wantsHelp = argv.includes('--help') || argv.includes('-h') || argv[0] === 'help';
  // Two-word commands (`users add`) first, then one-word ones (`audit`, `doctor`).
  const command =
    COMMANDS.find((c) => words === c.name) ??
    COMMANDS.find((c) => !c.name.includes(' ') && c.name === found[0]);
  if (!command) {
    if (wantsHelp || argv.length === 0) {
      (argv.length === 0 ? io.err : io.out)(helpText());
      return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
    }
    const known = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]))].join(', ');
    throw new UsageError(words ? `unknown command: ${words} (commands: ${known})` : 'no command given');
  }
  if (wantsHelp) {
    io.out(`Usage: sekisho ${command.usage}\n\n${command.summary}.`);
    return EXIT_OK;
  }

  const commandOptions: OptionSpecs = { ...GLOBAL_OPTIONS, ...command.options };
  const commandWords = command.name.split(' ').length;
  const strictParse = (args: readonly string[]) =>
    parseArgs({ args: [...args], options: commandOptions, allowPositionals: true, strict: true });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = strictParse(argv);
  } catch (error) {
    // An id that starts with '-' (see dashWordsAsArguments) read as what it must be, if that fits.
    const retry = tryParse(() => strictParse(dashWordsAsArguments(argv, commandOptions)));
    if (retry?.positionals.length !== commandWords + command.args.length) {
      throw new UsageError(`${(error as Error).message}\nUsage: sekisho ${command.usage}`);
    }
    parsed = retry;
  }
  const positionals = parsed.positionals.slice(commandWords);
  if (positionals.length !== command.args.length) {
    const expected = command.args.map((a) => `<${a}>`).join(' ') || 'no arguments';
    throw new UsageError(`${command.name} takes ${expected}\nUsage: sekisho ${command.usage}`);
  }

  const options = parsed.values as Record<string, string | boolean | undefined>;
  if (command.kind === 'http') {
    await command.run({ io, positionals, options });
    return EXIT_OK;
  }
  const dataDir = parsed.values['data-dir'];
  const config = loadConfig({
    ...env,
    ...(typeof dataDir === 'string' ? { SEKISHO_DATA_DIR: dataDir } : {}),
    ...command.configFromOptions?.(options),
  });
  if (command.needsAuthorizationServer && config.externalIssuer) {
    throw new CliError(
      `${command.name}: the built-in authorization server is off (SEKISHO_EXTERNAL_ISSUER=${config.externalIssuer.issuer}); clients, grants, signing keys and identity links belong to that server`,
      EXIT_USAGE,
    );
  }
  const file = sqliteFileFor(config.dataDir);
  if (!config.database && !command.mayCreateDatabase && !existsSync(file)) {
    io.err(
      `sekisho: no database at ${file} (set SEKISHO_DATA_DIR or --data-dir to the server's data folder, or SEKISHO_DATABASE_URL)`,
    );
    return EXIT_FAILURE;
  }
  const durable = await openStorage(config, { migrate: command.migrates !== false });
  const shared = await openCliSharedState(config, io);
  // Through the same composition as the server: a revocation, user change or key rotation made here
  // is announced to every running instance (when Redis is configured).
  const storage = composeStorage(durable, { rateLimits: shared?.rateLimits, bus: shared?.bus });
  try {
    const audit = createAudit({ storage, actor: { kind: 'cli', name: operatorName() } });
    const identity = createIdentity({ storage, audit });
    await command.run({
      config,
      storage,
      identity,
      audit,
      io,
      positionals,
      options,
    });
    return EXIT_OK;
  } finally {
    await shared?.close();
    await storage.close();
  }
}

type OptionSpecs = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>;

function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/**
 * `argv` with every word that is not one of `options` read as an argument rather than an option:
 * the value of the string option just before it (`--client -x` becomes `--client=-x`), else a
 * positional (after `--`, order kept). parseArgs takes any word starting with '-' for an option, but
 * the ids operators copy from `grants list`, `clients list` and `audit` are oidc-provider nanoids
 * (A–Z a–z 0–9 _ -): one in 64 starts with '-', and `sekisho grants revoke <that id>` failed as
 * "Unknown option '-1'" (exit 2). dispatch uses this only after the strict parse has failed, and
 * only if it then gives the command its exact number of positionals, so a mistyped option
 * (`users list --bogus`) is still reported as one.
 */
function dashWordsAsArguments(argv: readonly string[], options: OptionSpecs): string[] {
  const shortNames = new Map(
    Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])),
  );
  /** The option a word names (`--name`, `--name=value`, `-x`), or undefined. */
  const optionOf = (word: string): string | undefined => {
    if (word.startsWith('--')) {
      const name = word.slice(2).split('=')[0]!;
      return Object.hasOwn(options, name) ? name : undefined;
    }
    return /^-.$/.test(word) ? shortNames.get(word[1]!) : undefined;
  };
  const opts: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const name = optionOf(word);
    if (name === undefined) {
      positionals.push(word);
      continue;
    }
    const next = argv[i + 1];
    const takesNext = options[name]!.type === 'string' && !word.includes('=');
    // A following known option stays one: `--client --json` remains parseArgs' "ambiguous" error.
    if (takesNext && next !== undefined && next !== '--' && optionOf(next) === undefined) {
      opts.push(`--${name}=${next}`);
      i++;
    } else {
      opts.push(word);
    }
  }
  return [...opts, '--', ...positionals];
}

/** The OS account running the command: who the audit log names for CLI actions. */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * Redis for the CLI: announcing changes is a courtesy (instances re-read keys within
 * SEKISHO_KEY_CHECK_SECONDS and grants/users on every request), so an unreachable Redis is a warning,
 * not a reason to refuse an operator's command.
 */
async function openCliSharedState(
  config: ReturnType<typeof loadConfig>,
  io: Output,
): Promise<SharedStateHandle | undefined> {
  if (!config.redisUrl) return undefined;
  try {
    return await openSharedState(config, { attempts: 2, retryDelayMs: 500, name: 'sekisho-cli' });
  } catch (error) {
    if (!(error instanceof RedisUnreachableError)) throw error;
    io.err(
      `sekisho: warning: ${error.message}; running instances will notice within ${config.keyCheckSeconds} s (keys) or on their next request (grants, users)`,
    );
    return undefined;
  }
}
