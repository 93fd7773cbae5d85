/**
 * A Node 22 binary for the tools that need it (MCP Inspector 2.12 requires Node ≥ 22.19), taken from
 * the npm registry's `node@22` package through npx — the same way `.ci/run` pre-warms it — so a
 * machine on Node 20 can still run them. Resolved once per process.
 *
 * When it cannot be had: tests skip loudly on a laptop, and fail under CI=true.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
let resolved: Promise<string | undefined> | undefined;

/** The absolute path of a Node ≥ 22.19 binary, or undefined (with a warning) when there is none. */
export function node22(): Promise<string | undefined> {
  resolved ??= (async () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    if (major > 22 || (major === 22 && minor >= 19)) return process.execPath;
    try {
      const { stdout } = await run(
        'npx',
        ['-y', '-p', 'node@22', 'node', '-p', 'process.execPath + " " + process.version'],
        { timeout: 300_000, env: { ...process.env, npm_config_update_notifier: 'false' } },
      );
      const [path, version] = stdout.trim().split(/\s+/);
      const [, mj, mn] = /^v(\d+)\.(\d+)/.exec(version ?? '') ?? [];
      if (path && Number(mj) === 22 && Number(mn) >= 19) return path;
      throw new Error(`npx gave ${version ?? 'nothing'}`);
    } catch (error) {
      const reason = `no Node 22.19+ available through npx -p node@22 (${(error as Error).message})`;
      if (process.env.CI === 'true') throw new Error(`${reason} — required in CI`);
      console.warn(`SKIPPING Node 22 tests: ${reason}`);
      return undefined;
    }
  })();
  return resolved;
}
