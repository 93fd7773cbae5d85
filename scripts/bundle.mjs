/**
 * The second half of `npm run build`: one ESM file for the server, `dist/sekisho.mjs`, which is what
 * `npm start` runs. tsc (the first half) type-checks and emits `dist/` module by module; the bundle
 * holds the same code as one script, so at start-up Node resolves and reads one file instead of
 * ~1,300 and V8 keeps one source string instead of one per module (≈ 9–12 MB less RSS at idle and a
 * shorter cold start: docs/benchmarks.md). Identifiers are kept (whitespace and syntax minified only),
 * so stack traces still name our functions, and so are the names functions and classes report
 * (`keepNames`): oidc-provider names its models by `constructor.name` (the adapter's model, the token
 * TTLs, `kind`), and without it the syntax minifier drops the names of the class expressions it
 * returns — the bundle then minted access tokens with no `exp` that its own resource server refused
 * (test/integration/foundation/npm-start-build.test.ts signs in through the bundle to keep it so); `dist/sekisho.mjs.map` maps them back to the TypeScript
 * when the process runs with `--enable-source-maps` (NODE_OPTIONS), which costs memory of its own.
 *
 * Left outside the bundle: better-sqlite3 (a native addon) and what only some configurations load,
 * on first use, through a dynamic import — the PostgreSQL driver, ioredis, openid-client — so a
 * default start still neither parses nor holds them.
 */
import { build } from 'esbuild';

const BUNDLE_ENTRY = 'src/main.ts';
const BUNDLE_OUTFILE = 'dist/sekisho.mjs';
const BUNDLE_EXTERNAL = ['better-sqlite3', 'pg', 'ioredis', 'openid-client'];

await build({
  entryPoints: [BUNDLE_ENTRY],
  outfile: BUNDLE_OUTFILE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: BUNDLE_EXTERNAL,
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS packages inside an ESM bundle still call require() (for Node built-ins among others).
  banner: {
    js: "import { createRequire as __sekishoRequire } from 'node:module'; const require = __sekishoRequire(import.meta.url);",
  },
});
