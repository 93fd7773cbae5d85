/**
 * (g) Memory: RSS of a fresh Sekisho child once idle, then after 10,000 requests each carrying a
 * distinct access token (so every per-token structure — the verified-token cache above all — has
 * 10,000 entries), then after a full GC, which separates retained memory from garbage not yet
 * collected.
 */
import { type ServerChild, scriptPath, spawnServer } from '../lib/child.ts';
import type { MemoryReport } from '../lib/ipc.ts';
import { runLoad } from '../lib/load.ts';
import { mcpRequest, rotatingBearer } from '../lib/mcp-requests.ts';

export interface MemoryResult {
  readonly idle: MemoryReport;
  /** After minting the tokens in the child and a GC: the baseline the token traffic adds to. */
  readonly afterMint: MemoryReport;
  readonly afterTokens: MemoryReport;
  readonly afterTokensGc: MemoryReport;
  readonly distinctTokens: number;
  readonly authenticated: boolean;
  readonly non2xx: number;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureMemory(opts: {
  distinctTokens: number;
  connections: number;
  env?: Record<string, string>;
}): Promise<MemoryResult> {
  let child: ServerChild | undefined;
  try {
    child = await spawnServer({
      name: 'sekisho (memory)',
      script: scriptPath('servers/sekisho.ts'),
      nodeArgs: ['--expose-gc'],
      ...(opts.env && { env: opts.env }),
    });
    await settle(1000);
    const idle = await child.call<MemoryReport>('rss');
    const authenticated = child.info.authenticated === true;
    const tokens = authenticated
      ? await child.call<string[]>('access-tokens', { count: opts.distinctTokens }, 600_000)
      : [];
    const afterMint = await child.call<MemoryReport>('gc');
    const spec = mcpRequest({ era: 'modern', method: 'tools/call', tool: 'hello_world', args: {} });
    const result = await runLoad({
      url: child.url,
      connections: opts.connections,
      durationSec: 120,
      amount: opts.distinctTokens,
      request: rotatingBearer(spec, tokens),
    });
    const afterTokens = await child.call<MemoryReport>('rss');
    const afterTokensGc = await child.call<MemoryReport>('gc');
    return {
      idle,
      afterMint,
      afterTokens,
      afterTokensGc,
      distinctTokens: authenticated ? opts.distinctTokens : 0,
      authenticated,
      non2xx: result.non2xx + result.errors,
    };
  } finally {
    await child?.stop();
  }
}
