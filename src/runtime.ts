/**
 * Which Node.js Sekisho runs on. Node 22 and 24 (LTS) are the supported runtimes. Node 20 reached
 * end-of-life on 2026-04-30; Sekisho still works on it (the test suite runs on both 20 and 22), but
 * oidc-provider 9 prints "oidc-provider WARNING: Unsupported runtime" when it is loaded on a Node
 * older than 22, which reads as if something were broken. On Node 20 Sekisho says plainly what that
 * means instead, and keeps that one line (and only it) out of the output.
 */

const OIDC_PROVIDER_WARNING = 'oidc-provider WARNING: Unsupported runtime.';

/** The plain-words notice for an end-of-life Node (before 22), or undefined on a supported one. */
export function runtimeNotice(version: string = process.versions.node): string | undefined {
  if (Number(version.split('.')[0]) >= 22) return undefined;
  return `sekisho: Node.js ${version} is end-of-life; Sekisho runs on it, but use Node.js 22 or 24 LTS in production.`;
}

/**
 * Runs `load` (the dynamic import of everything that loads oidc-provider) with oidc-provider's
 * runtime warning held back when `notice` already said it in plain words. Any other warning passes.
 */
export async function loadWithRuntimeNotice<T>(
  load: () => Promise<T>,
  notice: string | undefined = runtimeNotice(),
): Promise<T> {
  if (notice === undefined) return load();
  process.stderr.write(`${notice}\n`);
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes(OIDC_PROVIDER_WARNING)) return;
    warn(...args);
  };
  try {
    return await load();
  } finally {
    console.warn = warn;
  }
}
