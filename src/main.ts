/**
 * The process entry: load configuration (exit 2 on bad settings), say plainly if Node is end-of-life
 * (runtime.ts), start, print the banner, and shut down gracefully on SIGINT/SIGTERM (stop accepting,
 * finish in-flight requests, exit 0).
 */

import { banner } from './banner.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { ExternalIssuerSetupError } from './resource/external/errors.ts';
import { loadWithRuntimeNotice } from './runtime.ts';
import { SchemaVersionError, StorageOpenError, StorageUnavailableError } from './storage/errors.ts';
import { RedisUnreachableError } from './storage/redis/connection.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sekisho: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // Loaded after the runtime check so an end-of-life Node gets one plain sentence (runtime.ts).
  const { startSekisho } = await loadWithRuntimeNotice(() => import('./server.ts'));
  const sekisho = await startSekisho(config);
  process.stdout.write(banner(sekisho.config));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    sekisho.logger.info({ signal }, 'shutting down');
    const hardStop = setTimeout(() => process.exit(1), 10_000);
    hardStop.unref();
    sekisho.close().then(
      () => process.exit(0),
      (err) => {
        sekisho.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  // Storage, Redis or an external issuer that cannot be reached or opened is an operator's problem to
  // fix, not a crash: one line.
  if (
    error instanceof StorageUnavailableError ||
    error instanceof StorageOpenError ||
    error instanceof SchemaVersionError ||
    error instanceof RedisUnreachableError ||
    error instanceof ExternalIssuerSetupError
  ) {
    process.stderr.write(`sekisho: ${error.message}\n`);
    process.exit(1);
  }
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE' || err?.code === 'EACCES') {
    process.stderr.write(`sekisho: cannot listen: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`sekisho: failed to start: ${err?.stack ?? String(error)}\n`);
  process.exit(1);
});
