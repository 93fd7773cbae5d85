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
  /** Share of busy time per family of owners (FAMILIES), largest first. */
  readonly families: readonly { name: string; ms: number; share: number }[];
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

/** Owners grouped into the families the Performance docs talk about (first match wins). */
const FAMILIES: readonly [string, RegExp][] = [
  ['GC', /^GC$/],
  ['zod (schemas, validation, JSON Schema)', /^zod$/],
  ['MCP SDK (protocol, per-request server)', /^@modelcontextprotocol\/server$/],
  [
    'Node↔Web conversion (Request/Response, streams, signals)',
    /^(@modelcontextprotocol\/node|node:deps|node:webstreams|node:abort_controller|node:event_target)$/,
  ],
  [
    'Express (router, body-parser, …)',
    /^(router|body-parser|express|raw-body|type-is|on-finished|finalhandler|qs|send|content-type|iconv-lite|media-typer|mime-types|depd|statuses|http-errors)$/,
  ],
  ['SQLite (better-sqlite3 + store)', /^(native: get|native: run|native: all|sekisho src\/storage)$/],
  [
    'logging + metrics (pino, prom-client)',
    /^(pino|@pinojs\/.*|sonic-boom|prom-client|fast-redact|thread-stream)$/,
  ],
  ['oidc-provider + koa + jose', /^(oidc-provider|koa|koa-.*|@koa\/.*|jose|quick-lru)$/],
  ['Sekisho code', /^sekisho src\//],
  [
    'HTTP parsing, sockets, streams (Node)',
    /^(native: writev|native: writeUtf8String|native: writeLatin1String|native: parse|native: (anonymous)|native: dispatch|node:_http_.*|node:stream_base_commons|node:streams|node:net|node:events|node:buffer|node:timers|node:async_hooks|node:process|node:util|native: runMicrotasks|V8\/native \(program\))$/,
  ],
];

function familyOf(category: string): string {
  return FAMILIES.find(([, re]) => re.test(category))?.[0] ?? 'other';
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
  const fam = new Map<string, number>();
  for (const [cat, us] of cats) fam.set(familyOf(cat), (fam.get(familyOf(cat)) ?? 0) + us);
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    families: [...fam]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })),
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
    '| Self time by family | share of busy |',
    '|---|---:|',
    ...b.families.map((f) => `| ${f.name} | ${(f.share * 100).toFixed(1)} % |`),
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
