import { z } from 'zod';
import { signedIn } from '../../access/policy.ts';
import { ALL_SCOPES, SCOPES } from '../../access/scopes.ts';
import { defineTool, textResult } from '../define-tool.ts';

/** The real endpoints, as the server serves them (the seed printed hard-coded ones). */
export const oauthInfo = defineTool({
  name: 'oauth_info',
  title: 'OAuth configuration',
  description: 'Shows this server’s OAuth endpoints, its scopes and how the sign-in flow works.',
  input: z.object({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  access: signedIn([SCOPES.tools.name]),
  run(_args, { services, caller }) {
    const endpoints = services.endpoints();
    const scopes = ALL_SCOPES.map((s) => `• ${s.name} — ${s.description.en}`).join('\n');
    const granted = caller.kind !== 'anonymous' ? [...caller.scopes].sort().join(' ') : '';
    return textResult(
      [
        '🔐 OAuth Configuration:',
        '',
        '**OAuth Endpoints:**',
        ...Object.entries(endpoints).map(([k, v]) => `• ${k}: ${v}`),
        '',
        '**Scopes:**',
        scopes,
        '',
        `**Your scopes:** ${granted}`,
        '',
        '**Flow:** 401 → protected-resource metadata (RFC 9728) → authorization-server metadata (RFC 8414) →',
        'client registration (RFC 7591 or a client ID metadata document) → authorization code + PKCE S256 →',
        'login and consent → token for resource /mcp (RFC 8707) → tools for your account.',
      ].join('\n'),
      { endpoints, grantPkce: 'S256', grantTypes: ['authorization_code', 'refresh_token'] },
    );
  },
});
