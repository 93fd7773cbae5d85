/**
 * Protected-resource metadata (RFC 9728) at both well-known forms. Clients use the challenge's
 * resource_metadata when there is one, else the path-suffixed form, else the root form (MCP
 * authorization-server discovery); the `resource` must equal the URL they were given (RFC 9728 §3.3)
 * or they discard the document.
 */
import { type CheckContext, noteDate, shown, stringList, suggestedBaseUrl } from '../context.ts';
import { SETTING } from '../findings.ts';
import { HttpFailure, isLoopbackHost, jsonObject } from '../http.ts';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export function prmUrls(url: URL): { path: string; root: string } {
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return { path: `${url.origin}${WELL_KNOWN}${path}`, root: `${url.origin}${WELL_KNOWN}` };
}

type Fetched = { doc: Record<string, unknown> } | { problem: string };

async function fetchPrm(ctx: CheckContext, url: string): Promise<Fetched> {
  try {
    const { response } = await ctx.http.follow(url, { headers: { accept: 'application/json' } });
    noteDate(ctx.learnt, response);
    if (response.status !== 200) return { problem: `HTTP ${response.status}` };
    const doc = jsonObject(response);
    if (!doc) return { problem: 'not a JSON object' };
    if (typeof doc.resource !== 'string') return { problem: 'no `resource` member' };
    return { doc };
  } catch (error) {
    return { problem: error instanceof HttpFailure ? error.message : String(error) };
  }
}

export async function checkResourceMetadata(ctx: CheckContext): Promise<void> {
  const { findings, learnt } = ctx;
  const urls = prmUrls(ctx.url);
  const path = await fetchPrm(ctx, urls.path);
  const root = urls.root === urls.path ? path : await fetchPrm(ctx, urls.root);
  const forward = 'Forward /.well-known/* on this host to Sekisho (it serves both forms)';

  if ('doc' in path)
    findings.pass('discovery', 'prm.path', 'Protected-resource metadata at the path form', urls.path);
  else if ('doc' in root)
    findings.warn(
      'discovery',
      'prm.path',
      'No protected-resource metadata at the path form',
      `${urls.path}: ${path.problem} (clients without the challenge's URL try this form first)`,
      forward,
    );
  else
    findings.fail(
      'discovery',
      'prm.path',
      'No protected-resource metadata at the path form',
      `${urls.path}: ${path.problem}`,
      forward,
    );
  if ('doc' in root)
    findings.pass('discovery', 'prm.root', 'Protected-resource metadata at the root form', urls.root);
  else
    findings.warn(
      'discovery',
      'prm.root',
      'No protected-resource metadata at the root form',
      `${urls.root}: ${root.problem} (clients that read only the root form cannot find the authorization server)`,
      forward,
    );

  // The document a client uses: the one the challenge names (when it is one of these), else path, else root.
  const named = learnt.challenge?.params.resource_metadata;
  const chosen =
    named === urls.root && 'doc' in root
      ? root.doc
      : 'doc' in path
        ? path.doc
        : 'doc' in root
          ? root.doc
          : undefined;
  if (!chosen) {
    if (learnt.anonymous)
      findings.fail(
        'discovery',
        'oauth.present',
        'No OAuth: the endpoint answers without a token and publishes no protected-resource metadata',
        'clients have no way to sign in; every caller is anonymous',
        'Run Sekisho with OAuth (the default outside demo mode), or put it in front of this server',
      );
    return;
  }
  learnt.prm = chosen;

  for (const [form, fetched] of [
    ['path', path],
    ['root', root],
  ] as const) {
    if (!('doc' in fetched) || (form === 'root' && urls.root === urls.path)) continue;
    const resource = fetched.doc.resource as string;
    if (resource === ctx.resource)
      findings.pass(
        'discovery',
        `prm.resource.${form}`,
        `PRM (${form} form) resource equals the URL`,
        resource,
      );
    else
      findings.fail(
        'discovery',
        `prm.resource.${form}`,
        `PRM (${form} form) resource differs from the URL`,
        `resource ${shown(resource)} ≠ ${ctx.resource}; clients discard the document (RFC 9728 §3.3)`,
        `Set ${SETTING.baseUrl}=${suggestedBaseUrl(ctx.url)} so that <base>/mcp is the URL clients use`,
      );
  }

  const servers = stringList(chosen.authorization_servers);
  if (!servers || servers.length === 0) {
    findings.fail(
      'discovery',
      'prm.authorization-servers',
      'PRM names no authorization_servers',
      undefined,
      'Sekisho lists its own issuer (or SEKISHO_EXTERNAL_ISSUER): check that the document comes from Sekisho',
    );
    return;
  }
  const issuer = servers[0] as string;
  learnt.issuer = issuer;
  let issuerUrl: URL | undefined;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    issuerUrl = undefined;
  }
  if (
    !issuerUrl ||
    (issuerUrl.protocol !== 'https:' &&
      !(issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname)))
  )
    findings.fail(
      'discovery',
      'prm.authorization-servers',
      'The advertised authorization server is not an https URL',
      shown(issuer),
      `Set ${SETTING.baseUrl} (or SEKISHO_EXTERNAL_ISSUER) to an https URL`,
    );
  else findings.pass('discovery', 'prm.authorization-servers', 'PRM names the authorization server', issuer);

  const scopes = stringList(chosen.scopes_supported);
  learnt.prmScopes = scopes;
  if (scopes?.includes('offline_access'))
    findings.warn(
      'discovery',
      'prm.scopes',
      'PRM scopes_supported lists offline_access',
      'MCP: protected resources SHOULD NOT list it (it belongs to the authorization server)',
      'Remove offline_access from the resource scopes',
    );
  else if (scopes)
    findings.pass(
      'discovery',
      'prm.scopes',
      'PRM lists the scopes clients ask for',
      scopes.join(' ') || '(none)',
    );
}
