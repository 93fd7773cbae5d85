/** `sekisho db status|migrate|copy`: the schema of the configured storage, and moving SQLite → PostgreSQL. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CopyTargetNotEmptyError, copySqliteToPostgres } from '../../storage/copy.ts';
import { DB_FILE_NAME, openSqliteStorage } from '../../storage/sqlite/index.ts';
import type { Command } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { printJson } from '../output.ts';

export const dbStatus: Command = {
  name: 'db status',
  usage: 'db status [--json]',
  summary: 'Show the storage backend, its schema version and pending migrations (changes nothing)',
  args: [],
  options: {},
  mayCreateDatabase: false,
  migrates: false,
  async run(ctx) {
    const status = await ctx.storage.schemaStatus();
    const report = { backend: ctx.storage.backend, location: ctx.storage.location, ...status };
    if (ctx.options.json) return printJson(ctx.io, report);
    ctx.io.out(`backend   ${report.backend}`);
    ctx.io.out(`location  ${report.location}`);
    ctx.io.out(`schema    ${status.current} (this Sekisho knows up to ${status.latest})`);
    if (status.current > status.latest) {
      ctx.io.out('written by a newer Sekisho: upgrade this one before using it');
    } else if (status.pending.length === 0) {
      ctx.io.out('up to date');
    } else {
      ctx.io.out(`pending   ${status.pending.map((m) => `${m.version} (${m.name})`).join(', ')}`);
      ctx.io.out("run 'sekisho db migrate' (or start the server, which migrates on start)");
    }
  },
};

export const dbMigrate: Command = {
  name: 'db migrate',
  usage: 'db migrate [--json]',
  summary: 'Apply pending schema migrations (safe while other instances start: one applies, the rest wait)',
  args: [],
  options: {},
  mayCreateDatabase: true,
  migrates: false,
  async run(ctx) {
    const applied = await ctx.storage.migrate();
    const status = await ctx.storage.schemaStatus();
    if (ctx.options.json) return printJson(ctx.io, { applied, current: status.current });
    ctx.io.out(
      applied.length === 0
        ? `nothing to apply; schema version ${status.current}`
        : `applied ${applied.join(', ')}; schema version ${status.current}`,
    );
  },
};

export const dbCopy: Command = {
  name: 'db copy',
  usage: 'db copy --from <sqlite file or data dir> [--to <postgres url>] [--json]',
  summary:
    'Copy a SQLite database (users, clients, grants, keys, live tokens and sessions) into an empty PostgreSQL database',
  args: [],
  options: { from: { type: 'string' }, to: { type: 'string' } },
  mayCreateDatabase: true,
  configFromOptions(options): Record<string, string> {
    if (options.to === undefined) return {};
    if (typeof options.to !== 'string' || !/^postgres(ql)?:\/\//i.test(options.to)) {
      throw new UsageError('--to must be a postgres:// or postgresql:// URL');
    }
    return { SEKISHO_DATABASE_URL: options.to };
  },
  async run(ctx) {
    if (ctx.storage.backend !== 'postgres') {
      throw new UsageError('db copy needs a PostgreSQL target: --to <postgres url> or SEKISHO_DATABASE_URL');
    }
    if (typeof ctx.options.from !== 'string')
      throw new UsageError('db copy needs --from <sqlite file or data dir>');
    const file = sqliteFile(ctx.options.from);
    const source = openSqliteStorage({ path: file });
    try {
      const report = await copySqliteToPostgres(source, ctx.storage);
      if (ctx.options.json) return printJson(ctx.io, { from: file, to: ctx.storage.location, ...report });
      const counts = Object.entries(report.copied).map(([table, n]) => `${n} ${table}`);
      ctx.io.out(`copied ${counts.join(', ')} from ${file} to ${ctx.storage.location}`);
      if (report.skipped > 0) ctx.io.out(`left ${report.skipped} expired row(s) behind`);
    } catch (error) {
      if (error instanceof CopyTargetNotEmptyError) throw new CliError(error.message);
      throw error;
    } finally {
      await source.close();
    }
  },
};

/** `--from` names the database file or the data dir holding it; it must exist (never create one). */
function sqliteFile(from: string): string {
  const file = existsSync(from) && statSync(from).isDirectory() ? join(from, DB_FILE_NAME) : from;
  if (!existsSync(file)) throw new CliError(`no SQLite database at ${file}`);
  return file;
}
