/**
 * (b) The peer: what the SDK v2 documentation leads a developer to build — `createMcpExpressApp`,
 * `requireBearerAuth` with a trivial verifier (accepts any token; no JWT work at all), and
 * `createMcpHandler` with a factory that builds a fresh McpServer with one zod tool per request.
 * Both eras are served (`legacy: 'stateless'`), as Sekisho does.
 */
import type { AddressInfo } from 'node:net';
import {
  createMcpExpressApp,
  type OAuthTokenVerifier,
  requireBearerAuth,
} from '@modelcontextprotocol/express';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { serveCommands } from '../lib/ipc.ts';

const verifier: OAuthTokenVerifier = {
  verifyAccessToken: async (token) => ({
    token,
    clientId: 'bench',
    scopes: ['mcp:tools'],
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  }),
};

const handler = createMcpHandler(
  () => {
    const server = new McpServer({ name: 'sdk-recipe', version: '1.0.0' });
    server.registerTool(
      'hello_world',
      { description: 'Greets you', inputSchema: z.object({ name: z.string().optional() }) },
      async ({ name }) => ({ content: [{ type: 'text', text: `Hello, ${name ?? 'World'}!` }] }),
    );
    return server;
  },
  { legacy: 'stateless' },
);
const node = toNodeHandler(handler);

const app = createMcpExpressApp();
app.all('/mcp', requireBearerAuth({ verifier }), (req, res) => node(req, res, req.body));

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveCommands(`http://127.0.0.1:${port}`);
});
