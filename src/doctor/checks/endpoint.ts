/**
 * The MCP endpoint as a client first meets it: the scheme, an unauthenticated `initialize`, the Host
 * guard, and the 401 challenge that starts OAuth (MCP authorization, RFC 9728 §5.1, RFC 6750 §3).
 */
import {
  type CheckContext,
  INITIALIZE_BODY,
  MCP_ACCEPT,
  noteDate,
  parseChallenge,
  shown,
  suggestedBaseUrl,
} from '../context.ts';
import { SETTING } from '../findings.ts';
import { HttpFailure, isLoopbackHost } from '../http.ts';

export function checkScheme(ctx: CheckContext): void {
  const { url, findings } = ctx;
  if (url.protocol === 'https:') findings.pass('transport', 'transport.https', 'HTTPS');
  else if (isLoopbackHost(url.hostname))
    findings.pass(
      'transport',
      'transport.https',
      'Plain http on a loopback host (fine for development only)',
    );
  else
    findings.fail(
      'transport',
      'transport.https',
      `Plain http on a public name (${url.host})`,
      'OAuth 2.1 and MCP allow http only on loopback; mcp-remote and the SDK clients refuse it, and tokens would cross the network in clear',
      `Terminate TLS in front of Sekisho (reverse proxy or load balancer) and set ${SETTING.baseUrl}=${suggestedBaseUrl(url).replace(/^http:/, 'https:')}`,
    );
}

/** Returns false when the endpoint cannot be reached at all (every later check would only repeat it). */
export async function checkEndpoint(ctx: CheckContext): Promise<boolean> {
  const { url, findings, learnt } = ctx;
  let response: Awaited<ReturnType<typeof ctx.http.request>>;
  try {
    response = await ctx.http.request(url.href, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MCP_ACCEPT },
      body: INITIALIZE_BODY,
    });
  } catch (error) {
    const failure = error instanceof HttpFailure ? error : undefined;
    findings.fail(
      'transport',
      'mcp.reachable',
      'MCP endpoint unreachable',
      failure ? failure.message : String(error),
      failure?.kind === 'tls'
        ? 'Serve a certificate clients trust for this name (a public CA, full chain)'
        : 'Check the URL, DNS, firewall and that Sekisho (or its proxy) listens there',
    );
    return false;
  }
  learnt.probe = response;
  noteDate(learnt, response);
  findings.pass('transport', 'mcp.reachable', `MCP endpoint answers (HTTP ${response.status})`);

  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.location ?? '';
    findings.fail(
      'transport',
      'transport.redirect',
      `The MCP endpoint redirects (HTTP ${response.status})`,
      `to ${shown(location)}; clients post JSON-RPC and do not reliably follow redirects (a 301/302 turns POST into GET)`,
      'Give clients the final URL, or make the proxy forward instead of redirecting',
    );
    return false;
  }

  const hostRefused =
    response.status === 421 ||
    (response.status === 403 && /host/i.test(response.body) && !/origin/i.test(response.body));
  if (hostRefused) {
    findings.fail(
      'transport',
      'transport.host',
      `Host ${url.host} refused (HTTP ${response.status})`,
      shown(response.body),
      `Add ${url.hostname} to ${SETTING.allowedHosts}, or set ${SETTING.baseUrl}=${suggestedBaseUrl(url)} (its host is always allowed)`,
    );
    return false;
  }
  findings.pass('transport', 'transport.host', `Host ${url.host} accepted`);

  if (response.status >= 200 && response.status < 300) {
    learnt.anonymous = true;
    findings.warn(
      'discovery',
      'mcp.challenge',
      'The MCP endpoint answered without a token (anonymous access)',
      'clients start OAuth only when a call answers 401; until then they use the server signed out',
      'Intended in demo mode; otherwise set SEKISHO_ANONYMOUS=0 so every client signs in as it connects',
    );
    return true;
  }
  if (response.status !== 401) {
    findings.fail(
      'discovery',
      'mcp.challenge',
      `Unauthenticated initialize answered HTTP ${response.status}, not 401`,
      shown(response.body),
      'Point clients at the MCP endpoint itself (Sekisho: <base>/mcp), and make the proxy pass POST, headers and body through unchanged',
    );
    return true;
  }
  const challenge = parseChallenge(response.headers['www-authenticate']);
  if (challenge?.scheme.toLowerCase() !== 'bearer') {
    findings.fail(
      'discovery',
      'mcp.challenge',
      '401 without a Bearer WWW-Authenticate challenge',
      challenge ? `scheme ${shown(challenge.scheme)}` : 'no WWW-Authenticate header',
      'The proxy must pass WWW-Authenticate through (and, for browsers, expose it)',
    );
    return true;
  }
  learnt.challenge = challenge;
  const metadataUrl = challenge.params.resource_metadata;
  if (!metadataUrl) {
    findings.fail(
      'discovery',
      'mcp.challenge',
      '401 challenge without resource_metadata',
      'MCP 2025-06-18 clients require it; later ones fall back to the well-known URLs',
      'Sekisho always sends it: check that the answer comes from Sekisho and not from a proxy',
    );
  } else {
    findings.pass(
      'discovery',
      'mcp.challenge',
      '401 with a Bearer challenge naming resource_metadata',
      shown(metadataUrl),
    );
    checkChallengeMetadataUrl(ctx, metadataUrl);
  }
  if (challenge.params.scope)
    findings.pass(
      'discovery',
      'mcp.challenge-scope',
      'Challenge names the scope to ask for',
      challenge.params.scope,
    );
  else
    findings.warn(
      'discovery',
      'mcp.challenge-scope',
      'Challenge names no scope',
      'MCP: servers SHOULD name the scope in the 401 challenge; clients then fall back to scopes_supported',
      'Sekisho names the scope of the tools; check that a proxy is not rewriting WWW-Authenticate',
    );
  return true;
}

/** The challenge must point at this origin; another one means the base URL is not the public one. */
function checkChallengeMetadataUrl(ctx: CheckContext, metadataUrl: string): void {
  let target: URL;
  try {
    target = new URL(metadataUrl);
  } catch {
    ctx.findings.fail(
      'discovery',
      'mcp.challenge-origin',
      'resource_metadata is not an absolute URL',
      shown(metadataUrl),
      `Set ${SETTING.baseUrl} to an absolute URL`,
    );
    return;
  }
  if (target.origin === ctx.url.origin)
    ctx.findings.pass('discovery', 'mcp.challenge-origin', 'Challenge points at this origin');
  else
    ctx.findings.fail(
      'discovery',
      'mcp.challenge-origin',
      `Challenge points at another origin (${target.origin})`,
      `reached as ${ctx.url.origin}: the server believes its public URL is ${target.origin}`,
      `Set ${SETTING.baseUrl}=${suggestedBaseUrl(ctx.url)} (the URL clients use, as the proxy exposes it)`,
    );
}
