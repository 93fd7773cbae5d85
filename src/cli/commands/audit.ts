/** `sekisho audit`: the audit log, filtered, as a table or JSON lines (one record per line). */
import { AuditFilterError, auditQueryFrom } from '../../audit/query.ts';
import type { AuditRecord } from '../../storage/types.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../errors.ts';
import { printTable, when } from '../output.ts';

export const audit: Command = {
  name: 'audit',
  usage:
    'audit [--user <username|id>] [--client <client_id>] [--type <type|family>] [--since <date|30m|24h|7d>] [--limit <n>] [--json]',
  summary: 'Show the audit log, newest first (--json: JSON lines, one record per line)',
  args: [],
  options: {
    user: { type: 'string' },
    client: { type: 'string' },
    type: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
  },
  mayCreateDatabase: false,
  async run(ctx) {
    const str = (name: string) =>
      typeof ctx.options[name] === 'string' ? (ctx.options[name] as string) : undefined;
    const limitText = str('limit');
    if (limitText !== undefined && !/^\d{1,7}$/.test(limitText)) {
      throw new UsageError('--limit must be a whole number');
    }
    let records: AuditRecord[];
    try {
      const query = await auditQueryFrom(
        {
          user: str('user'),
          client: str('client'),
          type: str('type'),
          since: str('since'),
          limit: limitText === undefined ? undefined : Number(limitText),
        },
        async (name) => (await ctx.identity.findByUsername(name))?.id,
      );
      records = await ctx.storage.listAudit(query);
    } catch (error) {
      if (error instanceof AuditFilterError) throw new UsageError(error.message);
      throw error;
    }
    if (ctx.options.json) {
      for (const r of records) ctx.io.out(JSON.stringify(r));
      return;
    }
    printTable(
      ctx.io,
      ['TIME', 'TYPE', 'OUTCOME', 'ACTOR', 'USER', 'CLIENT', 'IP', 'DETAILS'],
      records.map((r) => [
        when(r.at),
        r.type,
        r.outcome,
        [r.actor.kind, r.actor.name ?? r.actor.id].filter(Boolean).join(':'),
        r.userId ?? '-',
        r.clientId ?? '-',
        r.ip ?? '-',
        Object.keys(r.details).length ? JSON.stringify(r.details) : '-',
      ]),
      'no audit records match',
    );
  },
};
