/**
 * The ops CLI and the authorization server on one database, while the server runs: a user added
 * with `sekisho users add` can sign in through the pages; `sekisho grants revoke` makes that
 * grant's refresh token fail with invalid_grant (and `sekisho users role` changes what a refresh
 * can carry).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { refresh, signIn } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const BIN = new URL('../../bin/sekisho.js', import.meta.url).pathname;

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(() => srv?.close());

function sekisho(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--data-dir', srv.dataDir], {
      env: { ...process.env, SEKISHO_LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

describe('sekisho CLI against a running server', () => {
  it('users add, then that user signs in; grants revoke, then the refresh fails', async () => {
    const added = await sekisho(
      ['users', 'add', 'carol', '--name', 'Carol', '--role', 'admin', '--password-stdin'],
      'a long enough passphrase\n',
    );
    assert.equal(added.code, 0, added.stderr);

    const { client, tokens } = await signIn(
      srv.url,
      { username: 'carol', password: 'a long enough passphrase' },
      { scope: 'mcp:tools mcp:admin' },
    );
    assert.equal(tokens.status, 200);
    assert.equal(tokens.body.scope, 'mcp:tools mcp:admin');

    // A role change applies to the existing grant at the next refresh.
    const demoted = await sekisho(['users', 'role', 'carol', 'user']);
    assert.equal(demoted.code, 0, demoted.stderr);
    const narrowed = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: tokens.body.refresh_token,
    });
    assert.equal(narrowed.status, 200);
    assert.equal(narrowed.body.scope, 'mcp:tools');

    const listed = await sekisho(['grants', 'list', '--user', 'carol', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const grants = JSON.parse(listed.stdout) as { grantId: string; clientId: string }[];
    const grant = grants.find((g) => g.clientId === client.client_id);
    assert.ok(grant, listed.stdout);

    const revoked = await sekisho(['grants', 'revoke', grant.grantId]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = await refresh(srv.url, {
      clientId: client.client_id,
      refreshToken: narrowed.body.refresh_token,
    });
    assert.equal(after.status, 400);
    assert.equal(after.body.error, 'invalid_grant');

    const again = await sekisho(['grants', 'revoke', grant.grantId]);
    assert.equal(again.code, 1);
  });
});
