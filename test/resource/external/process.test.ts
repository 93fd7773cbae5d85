/**
 * Resource-server-only mode at the process level: an issuer that cannot be reached stops the real
 * process with exit 1 and one line naming SEKISHO_EXTERNAL_ISSUER (after the start-up budget); bad
 * settings exit 2 naming the key — and the introspection secret is never echoed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runMain } from '../../helpers/main-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-external-process-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** The real process, on a free port, with a throwaway data folder and no log lines. */
const start = (env: Record<string, string>) =>
  runMain(
    { PORT: '0', SEKISHO_DATA_DIR: dataDir, SEKISHO_LOG_LEVEL: 'silent', ...env },
    { timeoutMs: 90_000 },
  );

/** The lines Sekisho itself wrote (Node's end-of-life notice on old runtimes is not ours). */
const ownLines = (stderr: string) =>
  stderr.split('\n').filter((l) => l.startsWith('sekisho: ') && !/end-of-life/.test(l));

describe('resource-server-only mode: the process', () => {
  it('an unreachable issuer is retried for the start-up budget, then exit 1 in one line', async () => {
    const { code, stdout, stderr } = await start({
      SEKISHO_EXTERNAL_ISSUER: 'http://127.0.0.1:9',
      SEKISHO_EXTERNAL_STARTUP_TIMEOUT_SECONDS: '1',
    });
    assert.equal(code, 1, stderr);
    const lines = ownLines(stderr);
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0]!,
      /^sekisho: SEKISHO_EXTERNAL_ISSUER: cannot reach http:\/\/127\.0\.0\.1:9 \(.*attempts?\)$/,
    );
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.equal(stdout, '', 'no banner');
  });

  it('bad settings exit 2 naming the key, never echoing the introspection secret', async () => {
    const { code, stderr } = await start({
      SEKISHO_EXTERNAL_ISSUER: 'http://idp.example.com',
      SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET: 'hunter2-introspection-secret',
    });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /SEKISHO_EXTERNAL_ISSUER: must use https/);
    assert.match(
      stderr,
      /SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_ID: needed with SEKISHO_EXTERNAL_INTROSPECTION_CLIENT_SECRET/,
    );
    assert.doesNotMatch(stderr, /hunter2/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });
});
