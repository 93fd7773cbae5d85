#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with node's own test runner (through tsx), so the
// summary lines CI reads come straight from `node --test`. Extra args are passed through, e.g.
// `npm run test:unit -- --test-name-pattern=config`; `.ts` arguments select files.
//
// The spec reporter prints its "✖ failing tests:" recap *after* the summary, so this wrapper
// repeats the summary when anything followed it and closes with a plain "N passed, N failed,
// N skipped" line: the last lines of the output are always the counts.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') collect(path, out);
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const fileArgs = args.filter((a) => a.endsWith('.ts'));
const flags = args.filter((a) => !a.endsWith('.ts'));
const files = fileArgs.length > 0 ? fileArgs : [...collect('test'), ...collect('src')].sort();
// Two files at a time: CI has two cores, and the integration tests start real servers.
const concurrency = process.env.TEST_CONCURRENCY ?? '2';

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...flags,
    ...files,
  ],
  { stdio: ['inherit', 'pipe', 'inherit'] },
);

// Node's spec reporter summary: "ℹ tests 12", "ℹ pass 11", … "ℹ duration_ms 123".
const SUMMARY = /^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$/;
let summary = [];
let linesAfterSummary = 0;
let pending = '';

function scan(line) {
  if (SUMMARY.test(line)) {
    if (line.startsWith('ℹ tests ')) summary = [];
    summary.push(line);
    linesAfterSummary = 0;
  } else if (summary.length > 0 && line.trim() !== '') {
    linesAfterSummary++;
  }
}

child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) scan(line);
});

child.on('close', (code, signal) => {
  if (pending) scan(pending);
  const count = (name) => Number(summary.find((l) => l.startsWith(`ℹ ${name} `))?.split(' ')[2] ?? 0);
  if (summary.length > 0) {
    if (linesAfterSummary > 0) process.stdout.write(`\n${summary.join('\n')}\n`);
    const failed = count('fail') + count('cancelled');
    process.stdout.write(`\n${count('pass')} passed, ${failed} failed, ${count('skipped')} skipped\n`);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
