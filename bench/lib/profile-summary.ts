/**
 * Reads a V8 .cpuprofile (from `--cpu-prof`) and attributes self time to who spent it: each
 * npm package, each project source folder, Node internals, GC, and idle. That breakdown is the
 * evidence for where the per-request time goes (docs/architecture.md, "Performance").
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileBreakdown {
  readonly totalMs: number;
  readonly busyMs: number;
  /** Share of busy (non-idle) time per category, largest first. */
  readonly categories: readonly { name: string; ms: number; share: number }[];
  /** The heaviest functions by self time. */
  readonly functions: readonly { name: string; where: string; ms: number; share: number }[];
}

export function categoryOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  if (url === '') return `native: ${fn || '(anonymous)'}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? 'node_modules');
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[1] ?? url.slice(5)}`;
  const src = url.indexOf('/src/');
  if (src !== -1) return `sekisho src/${url.slice(src + 5).split('/')[0]}`;
  const bench = url.indexOf('/bench/');
  if (bench !== -1) return 'bench';
  return url;
}

export function summariseProfile(path: string, top = 25): ProfileBreakdown {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const cats = new Map<string, number>();
  const fns = new Map<string, { name: string; where: string; us: number }>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const cat = categoryOf(url, functionName);
    total += us;
    if (cat === 'idle') {
      idle += us;
      continue;
    }
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    const where = url
      ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const key = `${functionName}@${where}`;
    const entry = fns.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    fns.set(key, entry);
  }
  const busy = total - idle;
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    categories: [...cats]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })),
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: f.us / busy })),
  };
}

export function renderBreakdown(b: ProfileBreakdown, topCategories = 20): string {
  const lines = [
    `busy ${b.busyMs.toFixed(0)} ms of ${b.totalMs.toFixed(0)} ms sampled`,
    '',
    '| Self time by owner | ms | share of busy |',
    '|---|---:|---:|',
    ...b.categories
      .slice(0, topCategories)
      .map((c) => `| ${c.name} | ${c.ms.toFixed(0)} | ${(c.share * 100).toFixed(1)} % |`),
    '',
    '| Heaviest functions (self) | where | share |',
    '|---|---|---:|',
    ...b.functions.map((f) => `| ${f.name} | ${f.where} | ${(f.share * 100).toFixed(1)} % |`),
  ];
  return lines.join('\n');
}
