/**
 * How each MCP client connects to this server, in one place: the home page (`/`, HTML and JSON) and
 * the start-up banner read it, so the words a user follows cannot drift apart. Commands and file
 * snippets are filled in with the server's own MCP URL.
 */

/** MCP Inspector 2.12 needs Node ≥ 22.19; this runs it on any Node by fetching Node 22 through npx. */
export const INSPECTOR_VERSION = '2.12.0';
export const INSPECTOR_COMMAND = `npx -y -p node@22 -p @modelcontextprotocol/inspector@${INSPECTOR_VERSION} mcp-inspector`;

export interface ClientSetup {
  readonly id: 'inspector' | 'claude-code' | 'claude-desktop' | 'vscode' | 'cursor';
  readonly name: string;
  /** A shell command to run, if any. */
  readonly command?: string;
  /** A configuration file and what to put in it, if any. */
  readonly file?: { readonly path: string; readonly content: string };
  /** What to do next, in order (English; the page translates the fixed ones). */
  readonly steps: readonly string[];
}

export function clientSetups(mcpUrl: string): readonly ClientSetup[] {
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return [
    {
      id: 'inspector',
      name: `MCP Inspector ${INSPECTOR_VERSION}`,
      command: INSPECTOR_COMMAND,
      steps: [
        'In the browser tab it opens: Add Servers → + Add manually.',
        `Transport Streamable HTTP, URL ${mcpUrl}; save, then Connect.`,
        'Call a tool that needs sign-in: the Inspector signs you in in the same tab and comes back.',
        'Bearer paste instead (demo mode): call quick_login, copy the token, and add the header Authorization: Bearer <token> under the server’s Settings → custom headers.',
      ],
    },
    {
      id: 'claude-code',
      name: 'Claude Code',
      command: `claude mcp add --transport http sekisho ${mcpUrl}`,
      steps: ['Run /mcp inside Claude Code, pick sekisho and choose Authenticate.'],
    },
    {
      id: 'claude-desktop',
      name: 'Claude Desktop (through mcp-remote)',
      file: {
        path: 'claude_desktop_config.json',
        content: json({
          mcpServers: { sekisho: { command: 'npx', args: ['-y', 'mcp-remote@0.15.1', mcpUrl] } },
        }),
      },
      steps: ['Restart Claude Desktop; mcp-remote opens the browser to sign in.'],
    },
    {
      id: 'vscode',
      name: 'VS Code',
      file: {
        path: '.vscode/mcp.json',
        content: json({ servers: { sekisho: { type: 'http', url: mcpUrl } } }),
      },
      steps: ['Start the server from the file’s code lens; VS Code asks you to sign in.'],
    },
    {
      id: 'cursor',
      name: 'Cursor',
      file: { path: '~/.cursor/mcp.json', content: json({ mcpServers: { sekisho: { url: mcpUrl } } }) },
      steps: ['Cursor shows “Needs login” next to the server: click it to sign in.'],
    },
  ];
}
