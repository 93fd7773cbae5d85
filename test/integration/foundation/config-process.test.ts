/** Bad configuration stops the real process with exit code 2 and a message naming the key — no stack trace. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { runMain } from '../../helpers/main-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-config-process-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

describe('start-up with bad configuration', () => {
  it('PORT=abc exits 2 and names PORT, without a stack trace', async () => {
    const { code, stdout, stderr } = await runMain({ PORT: 'abc' });
    assert.equal(code, 2);
    assert.match(stderr, /PORT: must be a number/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.equal(stdout, '', 'no banner');
  });

  it('an unreadable config file exits 2 and names SEKISHO_CONFIG_FILE', async () => {
    const { code, stderr } = await runMain({ SEKISHO_CONFIG_FILE: '/nonexistent/sekisho.json' });
    assert.equal(code, 2);
    assert.match(stderr, /SEKISHO_CONFIG_FILE: cannot read \/nonexistent\/sekisho\.json/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('a SEKISHO_DATABASE_URL that is not postgres:// exits 2, names the key, never echoes the URL', async () => {
    const { code, stderr } = await runMain({ SEKISHO_DATABASE_URL: 'mysql://app:hunter2-secret@db/app' });
    assert.equal(code, 2);
    assert.match(stderr, /SEKISHO_DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    assert.doesNotMatch(stderr, /hunter2-secret/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('an unreachable PostgreSQL is retried for the start-up budget, then exits 1 in one line', async () => {
    const { code, stdout, stderr } = await runMain({
      SEKISHO_DATABASE_URL: 'postgres://postgres:hunter2-secret@127.0.0.1:1/test',
      SEKISHO_DATABASE_STARTUP_TIMEOUT_SECONDS: '1',
      SEKISHO_LOG_LEVEL: 'silent',
    });
    assert.equal(code, 1);
    assert.match(stderr, /cannot reach PostgreSQL at 127\.0\.0\.1:1\/test \(SEKISHO_DATABASE_URL\)/);
    assert.doesNotMatch(stderr, /hunter2-secret/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.equal(stdout, '', 'no banner');
  });

  it('a malformed SEKISHO_REDIS_URL exits 2 and names the key, without echoing the value', async () => {
    const { code, stderr } = await runMain({ SEKISHO_REDIS_URL: 'http://user:hunter2@cache:6379' });
    assert.equal(code, 2);
    assert.match(stderr, /SEKISHO_REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    assert.doesNotMatch(stderr, /hunter2/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('an unreachable Redis is retried for a bounded time, then exit 1 with one line naming the key', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runMain({
      SEKISHO_DATA_DIR: dataDir,
      PORT: '0',
      SEKISHO_LOG_LEVEL: 'silent',
      SEKISHO_REDIS_URL: `redis://:pw-not-shown@127.0.0.1:${port}`,
    });
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^sekisho: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(SEKISHO_REDIS_URL\) after 10 attempts: .*ECONNREFUSED/m,
    );
    assert.doesNotMatch(stderr, /pw-not-shown|\n\s+at /);
    // Bounded: it gives up by itself (the message counts the attempts) instead of hanging until killed.
    assert.equal(stdout, '', 'never started serving');
  });
});
