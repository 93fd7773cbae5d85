/** Entry of the `sekisho` CLI (bin/sekisho.js loads it through tsx). */
import { runCli } from './run.ts';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`sekisho: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
