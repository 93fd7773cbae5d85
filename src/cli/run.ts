/**
 * The `sekisho` ops CLI: parse, dispatch, map failures to exit codes (0 ok, 1 operational failure,
 * 2 usage error). It opens the same storage as the server (storage/open.ts): PostgreSQL when
 * SEKISHO_DATABASE_URL is set, else the SQLite file under SEKISHO_DATA_DIR or --data-dir (WAL and
 * busy_timeout make that safe while the server runs).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { createIdentity } from '../identity/users.ts';
import { SchemaVersionError } from '../storage/errors.ts';
import { openStorage } from '../storage/open.ts';
import { sqliteFileFor } from '../storage/sqlite/index.ts';
import { dbCopy, dbMigrate, dbStatus } from './commands/db.ts';
import {
  clientsList,
  clientsRemove,
  grantsList,
  grantsRevoke,
  keysList,
  keysRotate,
} from './commands/oauth.ts';
import { usersAdd, usersList, usersPasswd, usersRemove, usersRole } from './commands/users.ts';
import type { Command } from './context.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, toCliError, UsageError } from './errors.ts';
import { type Output, processOutput } from './output.ts';

export const COMMANDS: readonly Command[] = [
  usersAdd,
  usersList,
  usersRemove,
  usersPasswd,
  usersRole,
  clientsList,
  clientsRemove,
  grantsList,
  grantsRevoke,
  keysList,
  keysRotate,
  dbStatus,
  dbMigrate,
  dbCopy,
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
  const words = parseArgs({ args: [...argv], options: allOptions, allowPositionals: true, strict: false })
    .positionals.slice(0, 2)
    .join(' ');
  const wantsHelp = argv.includes('--help') || argv.includes('-h') || argv[0] === 'help';
  const command = COMMANDS.find((c) => words === c.name);
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

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nUsage: sekisho ${command.usage}`);
  }
  const positionals = parsed.positionals.slice(2);
  if (positionals.length !== command.args.length) {
    const expected = command.args.map((a) => `<${a}>`).join(' ') || 'no arguments';
    throw new UsageError(`${command.name} takes ${expected}\nUsage: sekisho ${command.usage}`);
  }

  const dataDir = parsed.values['data-dir'];
  const options = parsed.values as Record<string, string | boolean | undefined>;
  const config = loadConfig({
    ...env,
    ...(typeof dataDir === 'string' ? { SEKISHO_DATA_DIR: dataDir } : {}),
    ...command.configFromOptions?.(options),
  });
  const file = sqliteFileFor(config.dataDir);
  if (!config.database && !command.mayCreateDatabase && !existsSync(file)) {
    io.err(
      `sekisho: no database at ${file} (set SEKISHO_DATA_DIR or --data-dir to the server's data folder, or SEKISHO_DATABASE_URL)`,
    );
    return EXIT_FAILURE;
  }
  const storage = await openStorage(config, { migrate: command.migrates !== false });
  try {
    const identity = createIdentity({ storage });
    await command.run({
      config,
      storage,
      identity,
      io,
      positionals,
      options,
    });
    return EXIT_OK;
  } finally {
    await storage.close();
  }
}
