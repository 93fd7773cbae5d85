/**
 * MCP Inspector 2.12 (a dev dependency), run as its users run it: the launcher under Node 22
 * (`helpers/node22.ts`), every file it writes (catalog, OAuth state, secrets) in a temp directory of
 * its own so runs never share or leak state.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const pkg = createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector/package.json');
export const INSPECTOR_LAUNCHER = join(dirname(pkg), 'clients/launcher/build/index.js');

export interface InspectorHome {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  remove(): void;
}

/** A private home for one Inspector "installation": its state survives between runs inside it. */
export function inspectorHome(): InspectorHome {
  const dir = mkdtempSync(join(tmpdir(), 'sekisho-inspector-'));
  return {
    dir,
    env: {
      ...process.env,
      HOME: dir,
      MCP_STORAGE_DIR: join(dir, 'storage'),
      MCP_CATALOG_PATH: join(dir, 'mcp.json'),
      MCP_INSPECTOR_OAUTH_STATE_PATH: join(dir, 'oauth-state.json'),
      // No keychain on a server: keep secrets in a file inside this home (they must survive runs).
      MCP_INSPECTOR_SECRET_STORE: 'file',
      NO_COLOR: '1',
      npm_config_update_notifier: 'false',
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliRun {
  readonly child: ChildProcess;
  /** Resolves with each "Please navigate to: <url>" the CLI prints (the URL it would open). */
  nextAuthorizationUrl(timeoutMs?: number): Promise<URL>;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `mcp-inspector --cli …`, with the browser hand-off printed instead of opened. */
export function runInspectorCli(node: string, home: InspectorHome, args: readonly string[]): CliRun {
  const child = spawn(node, [INSPECTOR_LAUNCHER, '--cli', ...args], {
    // MCP_AUTO_OPEN_ENABLED=true makes the CLI print the authorization URL without a TTY; BROWSER
    // points the opener at a command that does nothing, so no real browser is started.
    env: { ...home.env, MCP_AUTO_OPEN_ENABLED: 'true', BROWSER: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const seen: URL[] = [];
  const waiters: ((url: URL) => void)[] = [];
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const match of stderr.matchAll(/Please navigate to: (\S+)/g)) {
      const href = match[1]!;
      if (seen.some((u) => u.href === href)) continue;
      const url = new URL(href);
      seen.push(url);
      waiters.shift()?.(url);
    }
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  let taken = 0;
  return {
    child,
    done,
    nextAuthorizationUrl(timeoutMs = 60_000) {
      const index = taken++;
      if (seen[index]) return Promise.resolve(seen[index]!);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no authorization URL within ${timeoutMs} ms; stderr:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push((url) => {
          clearTimeout(timer);
          resolve(url);
        });
        void done.then(() => {
          clearTimeout(timer);
          reject(
            new Error(`the CLI exited before asking to sign in; stderr:\n${stderr}\nstdout:\n${stdout}`),
          );
        });
      });
    },
  };
}

export interface InspectorWeb {
  /** The page to open, with the API token the launcher printed. */
  readonly url: URL;
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * `mcp-inspector --web …`: the Inspector's web UI on a free port of its own (the sandbox and the app
 * origin on OS-assigned ports), resolved once it prints the address with its API token.
 */
export async function startInspectorWeb(
  node: string,
  home: InspectorHome,
  port: number,
  args: readonly string[],
): Promise<InspectorWeb> {
  // An ad-hoc server (--server-url) and a catalog exclude each other: the launcher refuses both.
  const { MCP_CATALOG_PATH, ...env } = home.env;
  const adHoc = args.includes('--server-url');
  const child = spawn(node, [INSPECTOR_LAUNCHER, '--web', ...args], {
    env: {
      ...env,
      ...(adHoc ? {} : { MCP_CATALOG_PATH }),
      CLIENT_PORT: String(port),
      MCP_SANDBOX_PORT: '0',
      MCP_APP_ORIGIN_PORT: '0',
      MCP_AUTO_OPEN_ENABLED: 'false',
      BROWSER: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so close() ends whatever the launcher started
  });
  let output = '';
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the Inspector did not start in 90 s:\n${output}`)),
      90_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/?\?MCP_INSPECTOR_API_TOKEN=[0-9a-f]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(new URL(match[1]!));
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Inspector exited (${code}) before it was up:\n${output}`));
    });
  });
  return {
    url,
    origin: url.origin,
    close: async () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
