/**
 * The real process (`node --import tsx src/main.ts`): it prints the banner with the URL actually
 * bound, and on SIGTERM/SIGINT it stops accepting, lets an in-flight request finish and exits 0
 * well within 10 s.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { modernEnvelope } from '../../helpers/mcp-http.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  readonly banner: string;
  /** What the process wrote to stderr until the banner. */
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startProcess(): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sekisho-proc-'));
  dirs.push(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      SEKISHO_DATA_DIR: dataDir,
      SEKISHO_LOG_LEVEL: 'warn',
      SEKISHO_ANONYMOUS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 20 s; stderr:\n${err}`)), 20_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /MCP endpoint\s+http:\/\/localhost:(\d+)\/mcp/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before the banner; stderr:\n${err}`));
    });
  });
  return { child, port, banner: out, stderr: () => err, exited };
}

describe('process lifecycle', () => {
  it('prints the banner with the bound URL and how to connect MCP Inspector', async () => {
    const p = await startProcess();
    assert.match(p.banner, new RegExp(`MCP endpoint\\s+http://localhost:${p.port}/mcp`));
    assert.match(p.banner, new RegExp(`http://localhost:${p.port}/healthz`));
    assert.match(
      p.banner,
      /npx -y -p node@22 -p @modelcontextprotocol\/inspector@2\.12\.0 mcp-inspector\n.*Add Servers → \+ Add manually/,
    );
    assert.match(p.banner, new RegExp(`Server info\\s+http://localhost:${p.port}/ `));
    // Issue 9: no confusing "Unsupported runtime" line; on an end-of-life Node, one plain sentence.
    assert.doesNotMatch(p.stderr(), /oidc-provider WARNING/);
    if (Number(process.versions.node.split('.')[0]) < 22) {
      assert.match(
        p.stderr(),
        /Node\.js 20\.[\d.]+ is end-of-life; Sekisho runs on it, but use Node\.js 22 or 24 LTS/,
      );
    } else {
      assert.equal(p.stderr(), '');
    }
    const health = await fetch(`http://127.0.0.1:${p.port}/healthz`);
    assert.equal(health.status, 200);
    const sent = Date.now();
    p.child.kill('SIGINT');
    const { code, at } = await p.exited;
    assert.equal(code, 0);
    assert.ok(at - sent < 5_000, `SIGINT exit took ${at - sent} ms`);
  });

  it('on SIGTERM finishes the in-flight request, then exits 0 well within 10 s', async () => {
    const p = await startProcess();
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'hello_world', arguments: { name: 'Shutdown' }, _meta: modernEnvelope() },
    });
    const socket = connect(p.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let reply = '';
    socket.on('data', (c: Buffer) => {
      reply += c.toString();
    });
    const half = Math.floor(body.length / 2);
    socket.write(
      [
        'POST /mcp HTTP/1.1',
        `Host: localhost:${p.port}`,
        'Content-Type: application/json',
        'Accept: application/json, text/event-stream',
        'MCP-Protocol-Version: 2026-07-28',
        'Mcp-Method: tools/call',
        'Mcp-Name: hello_world',
        'Connection: close',
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body.slice(0, half),
      ].join('\r\n'),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sent = Date.now();
    p.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(p.child.exitCode, null, 'still running while a request is in flight');
    await assert.rejects(fetch(`http://127.0.0.1:${p.port}/healthz`), 'no new connections while draining');

    socket.write(body.slice(half));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const { code, signal, at } = await p.exited;
    await closed;
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.ok(at - sent < 10_000, `SIGTERM exit took ${at - sent} ms`);
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.match(reply, /Hello, Shutdown!/);
  });
});
