/**
 * The main integration suites again, on PostgreSQL: the same test files, imported after switching
 * the test-server helper to a fresh PostgreSQL schema per server (SEKISHO_TEST_BACKEND=postgres,
 * test/helpers/server.ts). No copies of tests: what they assert on SQLite must hold on PostgreSQL.
 *
 *   authorization-code  the whole code flow, PKCE, consent, refresh rotation and reuse, revocation
 *   oauth-clients       official MCP clients (v2 and v1 SDK) through OAuth against a live server
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManagedStorage } from '../../src/storage/open.ts';
import { postgresUnavailable } from '../helpers/postgres.ts';
import { startTestServer } from '../helpers/server.ts';

const skip = await postgresUnavailable();
if (skip) {
  describe('integration suites on PostgreSQL', () => {
    it.skip(`PostgreSQL unavailable: ${skip}`);
  });
} else {
  process.env.SEKISHO_TEST_BACKEND = 'postgres';
  describe('integration suites on PostgreSQL', () => {
    it('test servers in this file run on PostgreSQL, in a schema dropped afterwards', async () => {
      const srv = await startTestServer();
      try {
        assert.equal((srv.sekisho.storage as ManagedStorage).backend, 'postgres');
      } finally {
        await srv.close();
      }
    });
  });
  await import('../oauth/authorization-code.test.ts');
  await import('../e2e/oauth-clients.test.ts');
}
