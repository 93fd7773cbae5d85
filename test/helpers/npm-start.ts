/**
 * What `npm start` runs, read from package.json's `start` script (one source of truth for the test
 * of the built server and the benchmark's cold-start and idle-RSS measure): the arguments given to
 * `node`, flags and entry file, e.g. `['dist/sekisho.mjs']`.
 */
import { readFileSync } from 'node:fs';

export function npmStartNodeArgs(root = new URL('../../', import.meta.url)): string[] {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    scripts?: { start?: string };
  };
  const start = pkg.scripts?.start ?? '';
  const args = /(?:^|\s)node\s+(.+)$/.exec(start)?.[1]?.trim().split(/\s+/);
  if (!args?.length)
    throw new Error(`package.json's start script does not run node: ${JSON.stringify(start)}`);
  return args;
}
