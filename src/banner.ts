/** The start-up banner, in the spirit of the seed's: where everything is and how to connect. */
import { type Config, mcpResourceUrl } from './config/config.ts';
import { upstreamCallbackUrl } from './federation/index.ts';
import { INSPECTOR_COMMAND } from './http/client-setup.ts';
import { DEMO_USERS } from './identity/demo.ts';

export function banner(config: Config): string {
  const lines = [
    '',
    config.externalIssuer
      ? '🏯 Sekisho — remote MCP server (resource-server-only mode)'
      : '🏯 Sekisho — remote MCP server with built-in OAuth 2.1',
    '',
    `  MCP endpoint       ${mcpResourceUrl(config)}   (Streamable HTTP; 2026-07-28 and 2025-era clients)`,
    `  Health             ${config.baseUrl}/healthz   ${config.baseUrl}/readyz`,
    `  Server info        ${config.baseUrl}/   (endpoints and how to connect every client)`,
    `  Mode               ${config.demo ? 'demo' : 'standard'}; anonymous access ${config.anonymous ? 'on' : 'off'}`,
    ...(config.externalIssuer
      ? [
          `  Sign-in            at ${config.externalIssuer.issuer} (its tokens only; the built-in server is off)`,
        ]
      : []),
    ...upstreamLines(config),
    '',
    '  Connect MCP Inspector 2.12 (needs Node ≥ 22.19; this runs it on any Node):',
    `    ${INSPECTOR_COMMAND}`,
    `    → Add Servers → + Add manually: Streamable HTTP, URL ${mcpResourceUrl(config)}; save, Connect.`,
    `      Calling a tool that needs an account signs you in${config.externalIssuer ? ' at that server' : ''}, in the same tab.`,
    '',
    ...demoUserLines(config),
  ];
  return `${lines.join('\n')}\n`;
}

/** Upstream providers on the login page, and the redirect URI to register at each. */
function upstreamLines(config: Config): string[] {
  if (config.upstreams.length === 0) return [];
  return [
    `  Sign-in            ${config.upstreams.map((p) => `"Sign in with ${p.name}"`).join(', ')}${config.localLogin ? ' and passwords' : ' only (passwords off)'}`,
    `                     redirect URI to register at each provider: ${upstreamCallbackUrl(config)}`,
  ];
}

/** The seed's "Test Users" block, printed only in demo mode and labelled so nobody mistakes it for real. */
function demoUserLines(config: Config): string[] {
  if (!config.demo || !config.localLogin) return [];
  const width = Math.max(...DEMO_USERS.map((u) => `${u.username} / ${u.password}`.length));
  return [
    '  📝 Test users (demo only — never use in production):',
    ...DEMO_USERS.map(
      (u) => `     👤 ${`${u.username} / ${u.password}`.padEnd(width)}  (${u.name}, ${u.role})`,
    ),
    '',
  ];
}
