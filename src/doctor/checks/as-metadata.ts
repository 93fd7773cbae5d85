/**
 * Authorization-server metadata as clients find it: RFC 8414 first, then OpenID discovery, at the
 * URLs and in the order MCP prescribes for an issuer with or without a path. The first document that
 * answers is the one a client uses, and its `issuer` must equal the advertised one exactly
 * (RFC 8414 §3.3) — a trailing slash is enough for the v2 SDK, mcp-remote and the Inspector to stop.
 */
import { discoveryUrls } from '../../resource/external/discovery.ts';
import { type CheckContext, noteDate, shown, stringList } from '../context.ts';
import { SETTING } from '../findings.ts';
import { HttpFailure, isLoopbackHost, jsonObject } from '../http.ts';

// One list of discovery URLs for the doctor and for resource-server-only mode's own discovery.
export { discoveryUrls };

function webUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
  } catch {
    return false;
  }
}

export async function checkAuthorizationServer(ctx: CheckContext): Promise<void> {
  const { findings, learnt } = ctx;
  const issuer = learnt.issuer;
  if (!issuer) {
    findings.skip(
      'authorization-server',
      'as.discovery',
      'Authorization server metadata',
      'no authorization server advertised',
    );
    return;
  }
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    findings.skip(
      'authorization-server',
      'as.discovery',
      'Authorization server metadata',
      'the advertised issuer is not a URL',
    );
    return;
  }
  const tried: string[] = [];
  for (const url of discoveryUrls(issuerUrl)) {
    let problem: string;
    try {
      const { response } = await ctx.http.follow(url, { headers: { accept: 'application/json' } });
      noteDate(learnt, response);
      const doc = response.status === 200 ? jsonObject(response) : undefined;
      if (doc) {
        learnt.as = doc;
        learnt.asUrl = url;
        findings.pass(
          'authorization-server',
          'as.discovery',
          'Authorization server metadata found',
          tried.length ? `${url} (after ${tried.join('; ')})` : url,
        );
        break;
      }
      problem = response.status === 200 ? 'not a JSON object' : `HTTP ${response.status}`;
    } catch (error) {
      problem = error instanceof HttpFailure ? error.message : String(error);
    }
    tried.push(`${url}: ${problem}`);
  }
  const as = learnt.as;
  if (!as) {
    findings.fail(
      'authorization-server',
      'as.discovery',
      'No authorization server metadata at any discovery URL',
      tried.join('; '),
      `Forward /.well-known/* to the authorization server; with Sekisho's own, ${SETTING.baseUrl} must be the issuer clients reach`,
    );
    return;
  }

  if (as.issuer === issuer)
    findings.pass(
      'authorization-server',
      'as.issuer',
      'Metadata issuer equals the advertised issuer',
      issuer,
    );
  else
    findings.fail(
      'authorization-server',
      'as.issuer',
      'Metadata issuer differs from the advertised issuer',
      `metadata says ${shown(String(as.issuer))}, the resource advertises ${shown(issuer)}; clients MUST NOT use the metadata (RFC 8414 §3.3)`,
      `One spelling everywhere: ${SETTING.baseUrl} (built-in server) or SEKISHO_EXTERNAL_ISSUER must be the issuer exactly as the metadata spells it, trailing slash included`,
    );

  const badEndpoints = ['authorization_endpoint', 'token_endpoint'].filter((k) => !webUrl(as[k]));
  const responseTypes = stringList(as.response_types_supported) ?? [];
  if (badEndpoints.length === 0 && responseTypes.includes('code'))
    findings.pass('authorization-server', 'as.endpoints', 'Authorization and token endpoints (code flow)');
  else
    findings.fail(
      'authorization-server',
      'as.endpoints',
      'Authorization or token endpoint missing, not https, or no code flow',
      [
        badEndpoints.length ? `bad: ${badEndpoints.join(', ')}` : '',
        responseTypes.includes('code') ? '' : 'response_types_supported lacks code',
      ]
        .filter(Boolean)
        .join('; '),
      `Endpoints follow ${SETTING.baseUrl}: make it the https URL clients reach`,
    );

  const pkce = stringList(as.code_challenge_methods_supported);
  if (pkce?.includes('S256')) findings.pass('authorization-server', 'as.pkce', 'PKCE S256 advertised');
  else
    findings.fail(
      'authorization-server',
      'as.pkce',
      'PKCE S256 not advertised',
      pkce ? `code_challenge_methods_supported: ${pkce.join(', ')}` : 'no code_challenge_methods_supported',
      'MCP clients MUST refuse to continue without it; the authorization server must advertise S256',
    );

  const dcr = webUrl(as.registration_endpoint);
  const cimd = as.client_id_metadata_document_supported === true;
  if (dcr)
    findings.pass(
      'authorization-server',
      'as.dcr',
      'Dynamic client registration (DCR)',
      String(as.registration_endpoint),
    );
  else {
    const detail = 'Claude Code, mcp-remote, Cursor and the v1 SDK register dynamically';
    if (cimd)
      findings.warn(
        'authorization-server',
        'as.dcr',
        'No dynamic client registration',
        detail,
        'Enable the registration endpoint',
      );
    else
      findings.fail(
        'authorization-server',
        'as.dcr',
        'No dynamic client registration',
        `${detail}; and no client ID metadata documents either: only pre-registered clients can connect`,
        'Enable the registration endpoint (Sekisho: on by default) or CIMD',
      );
  }
  if (cimd) findings.pass('authorization-server', 'as.cimd', 'Client ID metadata documents (CIMD)');
  else
    findings.warn(
      'authorization-server',
      'as.cimd',
      'Client ID metadata documents (CIMD) not advertised',
      'MCP 2025-11-25 clients prefer CIMD over DCR (SHOULD)',
      'Advertise client_id_metadata_document_supported (Sekisho does unless CIMD is turned off)',
    );

  if (as.authorization_response_iss_parameter_supported === true)
    findings.pass('authorization-server', 'as.iss-parameter', 'Authorization responses carry iss (RFC 9207)');
  else
    findings.warn(
      'authorization-server',
      'as.iss-parameter',
      'authorization_response_iss_parameter_supported is not true',
      'MCP 2026-07-28: authorization servers SHOULD send iss (mix-up protection)',
      'Advertise and send iss (Sekisho does by default)',
    );

  const asScopes = stringList(as.scopes_supported);
  const wanted = [
    ...new Set([
      ...(learnt.prmScopes ?? []),
      ...(learnt.challenge?.params.scope?.split(/\s+/).filter(Boolean) ?? []),
    ]),
  ];
  if (!asScopes)
    findings.pass('authorization-server', 'as.scopes', 'Scopes (the server lists none; nothing to compare)');
  else {
    const missing = wanted.filter((s) => !asScopes.includes(s));
    if (missing.length === 0)
      findings.pass(
        'authorization-server',
        'as.scopes',
        'Every resource scope is one the server supports',
        wanted.join(' ') || undefined,
      );
    else
      findings.fail(
        'authorization-server',
        'as.scopes',
        'Resource scopes the authorization server does not list',
        `${missing.join(' ')}; clients asking for them (the Inspector asks for every PRM scope) get invalid_scope`,
        'List the same scopes at the resource and the authorization server (with an external issuer, add them there)',
      );
  }

  // RFC 8414 §2: grant_types_supported defaults to authorization_code and implicit when omitted.
  const grants = stringList(as.grant_types_supported) ?? ['authorization_code', 'implicit'];
  if (!grants.includes('authorization_code'))
    findings.fail(
      'authorization-server',
      'as.grant-types',
      'authorization_code grant not supported',
      grants.join(', '),
      'Every interactive MCP client uses the authorization code grant',
    );
  else if (!grants.includes('refresh_token'))
    findings.warn(
      'authorization-server',
      'as.grant-types',
      'No refresh_token grant',
      'clients must send the user through sign-in again whenever a token expires',
      'Enable refresh tokens at the authorization server',
    );
  else findings.pass('authorization-server', 'as.grant-types', 'authorization_code and refresh_token grants');

  // RFC 8414 §2: the default is client_secret_basic alone.
  const methods = stringList(as.token_endpoint_auth_methods_supported) ?? ['client_secret_basic'];
  if (methods.includes('none'))
    findings.pass('authorization-server', 'as.auth-none', 'Public clients (token_endpoint_auth_method none)');
  else
    findings.fail(
      'authorization-server',
      'as.auth-none',
      'Public clients (none) not accepted at the token endpoint',
      `token_endpoint_auth_methods_supported: ${methods.join(', ')}`,
      'Desktop and browser MCP clients cannot keep a secret: accept token_endpoint_auth_method none with PKCE',
    );
}
