/**
 * `admin_panel revoke_token` asks the admin to confirm through elicitation when the client can be
 * asked (issue #12), with the official clients: the v2 client in a 2025-era session and in
 * 2026-07-28 (multi-round-trip `input_required`), and the v1 client. Declining keeps the grant; a
 * client without the elicitation capability gets today's behaviour (revoked without a question).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { CLIENT_INFO, firstText, staticBearer } from '../helpers/clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { type TrustedTokens, trustTestKeys } from '../helpers/trusted-tokens.ts';

let srv: TestServer;
let tokens: TrustedTokens;

before(async () => {
  srv = await startTestServer({ SEKISHO_DEMO: '1' });
  tokens = await trustTestKeys(srv, 'elicit');
});
after(() => srv?.close());

const ADMIN_SCOPES = 'mcp:tools mcp:data mcp:admin';

/** A fresh grant of the demo user to revoke; its id. */
async function victimGrant(): Promise<string> {
  const token = await tokens.token('demo', 'mcp:tools');
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).gid as string;
}

async function grantExists(gid: string): Promise<boolean> {
  return (await srv.sekisho.storage.find('Grant', gid)) !== undefined;
}

type Answer = {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, string | number | boolean | string[]>;
};

async function v2(mode: 'legacy' | 'modern', answer: Answer | undefined, asked: string[]) {
  const client = new ClientV2(CLIENT_INFO, {
    capabilities: answer ? { elicitation: { form: {} } } : {},
    versionNegotiation: { mode: mode === 'modern' ? 'auto' : 'legacy' },
  });
  if (answer) {
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(String((request.params as { message?: string }).message));
      return answer;
    });
  }
  const token = await tokens.token('admin', ADMIN_SCOPES);
  await client.connect(new TransportV2(new URL(srv.mcpUrl), { authProvider: staticBearer(token) }), {
    timeout: 10_000,
  });
  assert.equal(client.getProtocolEra(), mode);
  return client;
}

async function revoke(client: { callTool(p: unknown): Promise<unknown> }, gid: string) {
  return (await client.callTool({
    name: 'admin_panel',
    arguments: { action: 'revoke_token', target: gid.slice(0, 14) },
  })) as { isError?: boolean; content: unknown[]; structuredContent?: Record<string, unknown> };
}

for (const mode of ['legacy', 'modern'] as const) {
  describe(`v2 client, ${mode === 'legacy' ? '2025 era (session)' : '2026-07-28 (input_required)'}`, () => {
    it('asks, and revokes when the admin confirms', async () => {
      const gid = await victimGrant();
      const asked: string[] = [];
      const client = await v2(mode, { action: 'accept', content: { confirm: true } }, asked);
      try {
        const result = await revoke(client, gid);
        assert.equal(result.isError, undefined, firstText(result));
        assert.equal(asked.length, 1, 'one question');
        assert.match(asked[0]!, /Revoke demo's authorization/);
        assert.match(firstText(result), /revoked/);
        assert.equal(result.structuredContent?.confirmed, true);
        assert.equal(await grantExists(gid), false);
      } finally {
        await client.close();
      }
    });

    it('keeps the grant when the admin declines (or unticks the box)', async () => {
      for (const answer of [
        { action: 'decline' },
        { action: 'accept', content: { confirm: false } },
      ] as Answer[]) {
        const gid = await victimGrant();
        const asked: string[] = [];
        const client = await v2(mode, answer, asked);
        try {
          const result = await revoke(client, gid);
          assert.equal(asked.length, 1);
          assert.match(firstText(result), /Not revoked/);
          assert.equal(await grantExists(gid), true);
        } finally {
          await client.close();
        }
      }
    });

    it('revokes without a question for a client that cannot be asked', async () => {
      const gid = await victimGrant();
      const client = await v2(mode, undefined, []);
      try {
        const result = await revoke(client, gid);
        assert.match(firstText(result), /revoked/);
        assert.equal(result.structuredContent?.confirmed, undefined);
        assert.equal(await grantExists(gid), false);
      } finally {
        await client.close();
      }
    });
  });
}

describe('v1 client (2025 era)', () => {
  it('receives the elicitation and revokes on confirmation', async () => {
    const gid = await victimGrant();
    const token = await tokens.token('admin', ADMIN_SCOPES);
    const client = new ClientV1(CLIENT_INFO, { capabilities: { elicitation: { form: {} } } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(String(request.params.message));
      return { action: 'accept', content: { confirm: true } };
    });
    await client.connect(
      new TransportV1(new URL(srv.mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const result = await revoke(client, gid);
      assert.equal(asked.length, 1);
      assert.match(firstText(result), /revoked/);
      assert.equal(await grantExists(gid), false);
    } finally {
      await client.close();
    }
  });
});
