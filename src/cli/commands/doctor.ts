/**
 * `sekisho doctor <url>`: checks a deployment from outside as real MCP clients meet it (src/doctor/).
 * Prints the report (or JSON with --json) and fails (exit 1) on any failed check, or on warnings
 * with --strict. Opens no storage and reads no server settings: it can check any deployment.
 */

import { readFileSync } from 'node:fs';
import { type ConnectTo, parseConnectTo } from '../../doctor/http.ts';
import { DEFAULT_BROWSER_ORIGIN, reportFails, runDoctor } from '../../doctor/index.ts';
import { renderReport } from '../../doctor/report.ts';
import type { HttpCommand } from '../context.ts';
import { CliError, EXIT_FAILURE, UsageError } from '../errors.ts';
import { printJson } from '../output.ts';

const DEFAULT_TIMEOUT_SECONDS = 30;
const MAX_TIMEOUT_SECONDS = 600;

export const doctor: HttpCommand = {
  kind: 'http',
  name: 'doctor',
  usage:
    'doctor <url> [--timeout <seconds>] [--strict] [--origin <browser origin>] [--connect-to <host:port:addr:port>] [--cacert <pem file>] [--skip-dry-run] [--json]',
  summary:
    'Check a deployment from outside as MCP clients see it (url = the MCP endpoint, e.g. https://mcp.example.com/mcp); the dry run registers one client named "sekisho doctor" (--skip-dry-run to avoid it)',
  args: ['url'],
  options: {
    timeout: { type: 'string' },
    strict: { type: 'boolean' },
    origin: { type: 'string' },
    'connect-to': { type: 'string' },
    cacert: { type: 'string' },
    'skip-dry-run': { type: 'boolean' },
  },
  async run({ io, positionals, options }) {
    const url = parseTarget(positionals[0] ?? '');
    const timeout = options.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(options.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT_SECONDS)
      throw new UsageError(`--timeout must be a number of seconds between 1 and ${MAX_TIMEOUT_SECONDS}`);
    const report = await runDoctor(url, {
      timeoutMs: timeout * 1000,
      browserOrigin: parseOrigin(options.origin),
      connectTo: parseConnectToList(options['connect-to']),
      extraCa: readCaFile(options.cacert),
      dryRun: options['skip-dry-run'] !== true,
    });
    if (options.json === true) printJson(io, report);
    else io.out(renderReport(report));
    if (reportFails(report, options.strict === true)) {
      const { fail, warn } = report.summary;
      throw new CliError(
        fail > 0
          ? `doctor: ${fail} check${fail === 1 ? '' : 's'} failed`
          : `doctor: ${warn} warning${warn === 1 ? '' : 's'} (--strict)`,
        EXIT_FAILURE,
      );
    }
  },
};

function parseTarget(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `doctor: not an absolute URL: ${value} (give the MCP endpoint, e.g. https://mcp.example.com/mcp)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError('doctor: the URL must be http(s)');
  if (url.username || url.password || url.hash)
    throw new UsageError('doctor: the URL must carry no credentials or fragment');
  return value;
}

function parseOrigin(value: string | boolean | undefined): string {
  if (typeof value !== 'string') return DEFAULT_BROWSER_ORIGIN;
  try {
    const url = new URL(value);
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.replace(/\/$/, ''))
      return url.origin;
  } catch {
    // falls through to the usage error
  }
  throw new UsageError(`doctor: --origin must be an origin such as https://app.example.com, not ${value}`);
}

function parseConnectToList(value: string | boolean | undefined): ConnectTo[] | undefined {
  if (typeof value !== 'string') return undefined;
  return value.split(',').map((item) => {
    const parsed = parseConnectTo(item);
    if (!parsed)
      throw new UsageError(`doctor: --connect-to takes HOST1:PORT1:HOST2:PORT2 (as curl), not ${item}`);
    return parsed;
  });
}

function readCaFile(value: string | boolean | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  let pem: string;
  try {
    pem = readFileSync(value, 'utf8');
  } catch (error) {
    throw new UsageError(
      `doctor: cannot read --cacert ${value}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new UsageError(`doctor: --cacert ${value} holds no PEM certificate`);
  return pem;
}
