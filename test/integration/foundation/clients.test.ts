/**
 * Issue #2 acceptance: the official clients of both generations list the public tools and call
 * hello_world against a real server — v2 in modern mode (2026-07-28 via server/discover), v2 in
 * legacy mode (2025 initialize) and the v1 SDK client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectV1, connectV2, firstText } from '../../helpers/clients.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

// Without a token and outside demo mode, anonymous callers see every non-demo tool: the public ones
// to use now, the others described as needing sign-in (calling one answers 401 and starts OAuth).
const PUBLIC_TOOLS = [
  'admin_panel',
  'auth_status',
  'hello_world',
  'oauth_info',
  'protected_data',
  'user_profile',
];

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ SEKISHO_ANONYMOUS: '1' });
});
after(() => srv.close());

function names(tools: { name: string }[]): string[] {
  return tools.map((t) => t.name).sort();
}

describe('MCP clients of both eras', () => {
  it('v2 client in modern mode negotiates 2026-07-28, lists tools and calls hello_world', async () => {
    const c = await connectV2(srv.mcpUrl, { mode: 'modern' });
    try {
      assert.equal(c.era, 'modern');
      assert.equal(c.protocolVersion, '2026-07-28');
      assert.equal(c.client.getServerVersion()?.name, 'sekisho');
      // The default profile offers tools only: the conformance fixture's capabilities stay out of it.
      assert.deepEqual(c.client.getServerCapabilities(), { tools: { listChanged: true } });
      const { tools } = await c.client.listTools();
      assert.deepEqual(names(tools), PUBLIC_TOOLS);
      const result = await c.client.callTool({ name: 'hello_world', arguments: { name: 'Modern' } });
      assert.equal(result.isError, undefined);
      assert.match(firstText(result), /^Hello, Modern! \(🔓 Anonymous\)/);
      assert.deepEqual(result.structuredContent, { greeting: 'Hello, Modern!', authenticated: false });
    } finally {
      await c.close();
    }
  });

  it('v2 client in legacy mode uses initialize (2025 era), lists tools and calls hello_world', async () => {
    const c = await connectV2(srv.mcpUrl, { mode: 'legacy' });
    try {
      assert.equal(c.era, 'legacy');
      assert.match(c.protocolVersion ?? '', /^2025-/);
      const { tools } = await c.client.listTools();
      assert.deepEqual(names(tools), PUBLIC_TOOLS);
      const result = await c.client.callTool({ name: 'hello_world', arguments: {} });
      assert.match(firstText(result), /^Hello, World! \(🔓 Anonymous\)/);
    } finally {
      await c.close();
    }
  });

  it('v1 SDK client (1.32.2) lists tools and calls hello_world', async () => {
    const c = await connectV1(srv.mcpUrl);
    try {
      assert.match(c.protocolVersion ?? '', /^2025-/);
      const { tools } = await c.client.listTools();
      assert.deepEqual(names(tools), PUBLIC_TOOLS);
      for (const tool of tools) {
        assert.equal(tool.inputSchema.type, 'object', `${tool.name} has an object input schema`);
        assert.ok(tool.description, `${tool.name} has a description`);
      }
      const result = await c.client.callTool({ name: 'hello_world', arguments: { name: 'v1' } });
      assert.match(firstText(result), /^Hello, v1! \(🔓 Anonymous\)/);
    } finally {
      await c.close();
    }
  });

  it('auth_status answers "anonymous" without a token', async () => {
    const c = await connectV2(srv.mcpUrl, { mode: 'modern' });
    try {
      const result = await c.client.callTool({ name: 'auth_status', arguments: {} });
      assert.match(firstText(result), /Current User: Anonymous\nAuthenticated: ❌ No/);
      assert.deepEqual(result.structuredContent, { authenticated: false, user: 'anonymous' });
    } finally {
      await c.close();
    }
  });
});
