/**
 * What a browser-based client (MCP Inspector's web UI, web apps) needs: its Origin accepted on /mcp,
 * a preflight that allows the MCP headers, WWW-Authenticate and Mcp-Session-Id exposed to script (or
 * it never sees the challenge that starts OAuth), and CORS on the metadata, registration and token
 * endpoints it calls from the page. These only break browser clients, so they warn.
 */
import { type CheckContext, INITIALIZE_BODY, MCP_ACCEPT, noteDate, shown } from '../context.ts';
import { SETTING } from '../findings.ts';
import { HttpFailure } from '../http.ts';
import { prmUrls } from './resource-metadata.ts';

const MCP_REQUEST_HEADERS = ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id'];
const MUST_EXPOSE = ['www-authenticate', 'mcp-session-id'];

function listHeader(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function allowsOrigin(headers: Readonly<Record<string, string>>, origin: string): boolean {
  const allowed = headers['access-control-allow-origin'];
  return allowed === '*' || allowed === origin;
}

async function attempt<T>(fn: () => Promise<T>): Promise<T | string> {
  try {
    return await fn();
  } catch (error) {
    return error instanceof HttpFailure ? error.message : String(error);
  }
}

export async function checkBrowserAccess(ctx: CheckContext): Promise<void> {
  const { url, findings, learnt, browserOrigin } = ctx;
  const originFix = (origin: string) =>
    `Add ${origin} to ${SETTING.allowedOrigins} (the base URL's origin and localhost origins are allowed by default)`;

  // A page served from the deployment's own origin.
  const self = await attempt(() =>
    ctx.http.request(url.href, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, origin: url.origin },
      body: INITIALIZE_BODY,
    }),
  );
  if (typeof self === 'string')
    findings.warn('browser', 'browser.origin-self', 'Own origin', self, 'Check the endpoint');
  else if (self.status === 403)
    findings.warn(
      'browser',
      'browser.origin-self',
      `Requests from the deployment's own origin (${url.origin}) refused`,
      shown(self.body),
      `Set ${SETTING.baseUrl} to the public URL (its origin is always allowed), or ${originFix(url.origin)}`,
    );
  else findings.pass('browser', 'browser.origin-self', `Own origin ${url.origin} accepted`);

  const preflight = await attempt(() =>
    ctx.http.request(url.href, {
      method: 'OPTIONS',
      headers: {
        origin: browserOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': MCP_REQUEST_HEADERS.join(', '),
      },
    }),
  );
  if (typeof preflight === 'string')
    findings.warn(
      'browser',
      'browser.preflight',
      'CORS preflight on the MCP endpoint',
      preflight,
      'Check the endpoint',
    );
  else {
    const allowedHeaders = listHeader(preflight.headers['access-control-allow-headers']);
    const missingHeaders = allowedHeaders.includes('*')
      ? []
      : MCP_REQUEST_HEADERS.filter((h) => !allowedHeaders.includes(h));
    const methods = listHeader(preflight.headers['access-control-allow-methods']);
    const ok =
      preflight.status >= 200 &&
      preflight.status < 300 &&
      allowsOrigin(preflight.headers, browserOrigin) &&
      missingHeaders.length === 0 &&
      (methods.includes('post') || methods.includes('*'));
    if (ok) findings.pass('browser', 'browser.preflight', `CORS preflight from ${browserOrigin} allowed`);
    else
      findings.warn(
        'browser',
        'browser.preflight',
        `CORS preflight from ${browserOrigin} not allowed`,
        preflight.status === 403
          ? `HTTP 403: ${shown(preflight.body)}`
          : `HTTP ${preflight.status}${missingHeaders.length ? `, headers not allowed: ${missingHeaders.join(', ')}` : ''}${allowsOrigin(preflight.headers, browserOrigin) ? '' : ', origin not echoed'}`,
        preflight.status === 403
          ? originFix(browserOrigin)
          : 'Let the proxy pass OPTIONS /mcp to Sekisho unchanged',
      );
  }

  const cross = await attempt(() =>
    ctx.http.request(url.href, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, origin: browserOrigin },
      body: INITIALIZE_BODY,
    }),
  );
  if (typeof cross === 'string')
    findings.warn(
      'browser',
      'browser.expose',
      'Headers exposed to browser clients',
      cross,
      'Check the endpoint',
    );
  else {
    noteDate(learnt, cross);
    const exposed = listHeader(cross.headers['access-control-expose-headers']);
    const hidden = exposed.includes('*') ? [] : MUST_EXPOSE.filter((h) => !exposed.includes(h));
    if (cross.status !== 403 && allowsOrigin(cross.headers, browserOrigin) && hidden.length === 0)
      findings.pass(
        'browser',
        'browser.expose',
        'WWW-Authenticate and Mcp-Session-Id exposed to browser clients',
      );
    else
      findings.warn(
        'browser',
        'browser.expose',
        'Browser clients cannot read the challenge or session headers',
        cross.status === 403
          ? `HTTP 403: ${shown(cross.body)}`
          : `${allowsOrigin(cross.headers, browserOrigin) ? '' : 'no Access-Control-Allow-Origin; '}not exposed: ${hidden.join(', ') || '-'}`,
        cross.status === 403
          ? originFix(browserOrigin)
          : 'A proxy that adds its own CORS headers must expose WWW-Authenticate and Mcp-Session-Id (or leave CORS to Sekisho)',
      );
  }

  // The endpoints a browser client calls from the page.
  const as = learnt.as ?? {};
  const targets: { name: string; url: unknown; method: 'GET' | 'POST' }[] = [
    { name: 'resource metadata', url: prmUrls(url).path, method: 'GET' },
    { name: 'authorization server metadata', url: learnt.asUrl, method: 'GET' },
    { name: 'registration', url: as.registration_endpoint, method: 'POST' },
    { name: 'token', url: as.token_endpoint, method: 'POST' },
  ];
  const refused: string[] = [];
  for (const target of targets) {
    if (typeof target.url !== 'string') continue;
    const response = await attempt(() =>
      ctx.http.request(target.url as string, {
        method: 'OPTIONS',
        headers: {
          origin: browserOrigin,
          'access-control-request-method': target.method,
          ...(target.method === 'POST' ? { 'access-control-request-headers': 'content-type' } : {}),
        },
      }),
    );
    if (typeof response === 'string') refused.push(`${target.name}: ${response}`);
    else if (!allowsOrigin(response.headers, browserOrigin))
      refused.push(`${target.name}: HTTP ${response.status}, no CORS`);
  }
  if (refused.length === 0)
    findings.pass('browser', 'browser.oauth-cors', 'CORS on metadata, registration and token endpoints');
  else
    findings.warn(
      'browser',
      'browser.oauth-cors',
      'Browser clients cannot call some OAuth endpoints',
      refused.join('; '),
      'Let the proxy pass OPTIONS and the CORS headers of /.well-known/* and /oauth/* through unchanged',
    );
}
