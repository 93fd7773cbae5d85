/**
 * Registration and sign-in as a desktop client does it, stopping at the login page: register a
 * public loopback client (DCR, RFC 7591), send an authorization request with PKCE S256 and
 * `resource` = the URL (RFC 8707), follow the redirects (bounded, https or loopback only) to an HTML
 * page; then ask again with prompt=none, which must come back to the redirect URI with an error and
 * the `iss` parameter when the server advertises it (RFC 9207). No credentials are ever sent, and
 * nothing listens on the redirect URI: the walk stops before it.
 *
 * It leaves one registered client behind (DCR has no anonymous delete): it is named so an operator
 * can recognise and remove it, and the report says so.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type CheckContext, shown } from '../context.ts';
import { SETTING } from '../findings.ts';
import { HttpFailure, jsonObject } from '../http.ts';

export const DRY_RUN_CLIENT_NAME = 'sekisho doctor (dry run; safe to remove)';
/** Port 9 (discard): nothing is expected to listen, and the walk never calls it anyway. */
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

export interface DryRunResult {
  /** The client the run registered, for the report's note. */
  readonly registeredClientId?: string;
}

export async function dryRun(ctx: CheckContext): Promise<DryRunResult> {
  const { findings, learnt } = ctx;
  const as = learnt.as;
  if (!ctx.dryRun) {
    findings.skip('dry-run', 'dry-run.register', 'Registration dry run', 'skipped (--skip-dry-run)');
    return {};
  }
  if (!as || findings.get('as.issuer')?.status !== 'pass') {
    findings.skip(
      'dry-run',
      'dry-run.register',
      'Registration dry run',
      'no usable authorization server metadata',
    );
    return {};
  }
  if (typeof as.registration_endpoint !== 'string' || typeof as.authorization_endpoint !== 'string') {
    findings.skip(
      'dry-run',
      'dry-run.register',
      'Registration dry run',
      'the server offers no dynamic registration',
    );
    return {};
  }

  let clientId: string;
  try {
    const response = await ctx.http.request(as.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        client_name: DRY_RUN_CLIENT_NAME,
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
      }),
    });
    const doc = jsonObject(response);
    if ((response.status !== 201 && response.status !== 200) || typeof doc?.client_id !== 'string') {
      const error =
        typeof doc?.error === 'string'
          ? `${doc.error}: ${String(doc.error_description ?? '')}`
          : shown(response.body);
      findings.fail(
        'dry-run',
        'dry-run.register',
        `Registration refused (HTTP ${response.status})`,
        shown(error),
        response.status === 429
          ? 'Too many registrations from this address: wait, or raise SEKISHO_REGISTRATIONS_PER_HOUR'
          : 'A public loopback client (as Claude Code, mcp-remote, VS Code register) must be accepted',
      );
      return {};
    }
    clientId = doc.client_id;
    if (doc.token_endpoint_auth_method !== undefined && doc.token_endpoint_auth_method !== 'none')
      findings.warn(
        'dry-run',
        'dry-run.register',
        `Registered ${clientId}, but as a confidential client`,
        `asked for token_endpoint_auth_method none, got ${shown(String(doc.token_endpoint_auth_method))}`,
        'Honour none for public clients',
      );
    else findings.pass('dry-run', 'dry-run.register', `Registered a public loopback client (${clientId})`);
  } catch (error) {
    findings.fail(
      'dry-run',
      'dry-run.register',
      'Registration endpoint unreachable',
      error instanceof HttpFailure ? error.message : String(error),
      'Forward the registration endpoint to the authorization server',
    );
    return {};
  }

  const scope = learnt.challenge?.params.scope ?? learnt.prmScopes?.join(' ') ?? '';
  const authorizationUrl = (extra: Record<string, string>) => {
    const u = new URL(as.authorization_endpoint as string);
    const verifier = randomBytes(32).toString('base64url');
    const params = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      ...(scope ? { scope } : {}),
      state: randomBytes(16).toString('base64url'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: ctx.resource,
      ...extra,
    };
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.href;
  };
  const stopAt = (location: URL) => location.href.startsWith(REDIRECT_URI);

  try {
    const walk = await ctx.http.follow(authorizationUrl({}), { stopAt, headers: { accept: 'text/html' } });
    const final = walk.response;
    if (walk.stoppedAt) {
      const error = walk.stoppedAt.searchParams.get('error');
      const description = walk.stoppedAt.searchParams.get('error_description') ?? '';
      findings.fail(
        'dry-run',
        'dry-run.authorize',
        error ? `Authorization refused: ${shown(error, 40)}` : 'Authorization returned without a login page',
        shown(description),
        error === 'invalid_target'
          ? `The server does not accept resource=${ctx.resource}: set ${SETTING.baseUrl} so that <base>/mcp is this URL`
          : error === 'invalid_scope'
            ? 'The scopes the resource names must be ones the authorization server grants'
            : 'See the error; clients show it to the user as a failed sign-in',
      );
    } else if (final.status === 200 && /text\/html/i.test(final.headers['content-type'] ?? ''))
      findings.pass(
        'dry-run',
        'dry-run.authorize',
        `Authorization request (PKCE S256, resource) reaches the login page`,
        `${firstSegment(final.url)} after ${walk.hops.length} redirect${walk.hops.length === 1 ? '' : 's'}`,
      );
    else
      findings.fail(
        'dry-run',
        'dry-run.authorize',
        `Authorization request ended at HTTP ${final.status}, not a login page`,
        `${new URL(final.url).pathname}: ${shown(final.body, 120)}`,
        `The authorization endpoint must be reachable at the URL the metadata names (${SETTING.baseUrl})`,
      );
  } catch (error) {
    const failure = error instanceof HttpFailure ? error : undefined;
    findings.fail(
      'dry-run',
      'dry-run.authorize',
      failure?.kind === 'redirect_refused' ? 'Sign-in redirects leave https' : 'Authorization request failed',
      failure ? `${failure.message} (at ${new URL(failure.url).pathname})` : String(error),
      failure?.kind === 'redirect_refused'
        ? `Every page of the sign-in must stay on https: set ${SETTING.baseUrl} to the https URL`
        : 'Forward the authorization endpoint and the sign-in pages to the authorization server',
    );
  }

  await checkIssParameter(ctx, authorizationUrl({ prompt: 'none' }), stopAt);
  return { registeredClientId: clientId };
}

async function checkIssParameter(
  ctx: CheckContext,
  url: string,
  stopAt: (location: URL) => boolean,
): Promise<void> {
  const { findings, learnt } = ctx;
  const advertised = learnt.as?.authorization_response_iss_parameter_supported === true;
  try {
    const walk = await ctx.http.follow(url, { stopAt });
    const iss = walk.stoppedAt?.searchParams.get('iss') ?? undefined;
    if (!walk.stoppedAt) {
      findings.skip(
        'dry-run',
        'dry-run.iss',
        'iss in authorization responses',
        'prompt=none did not return to the client',
      );
      return;
    }
    if (iss === learnt.issuer)
      findings.pass('dry-run', 'dry-run.iss', 'Authorization responses carry iss equal to the issuer', iss);
    else if (iss === undefined && !advertised)
      findings.skip('dry-run', 'dry-run.iss', 'iss in authorization responses', 'not advertised, not sent');
    else
      findings.fail(
        'dry-run',
        'dry-run.iss',
        iss === undefined
          ? 'iss advertised but missing from the authorization response'
          : 'iss differs from the issuer',
        iss === undefined
          ? 'clients that enforce RFC 9207 reject the response'
          : `${shown(iss)} ≠ ${learnt.issuer}`,
        'The authorization server must send iss exactly as its metadata issuer (RFC 9207)',
      );
  } catch (error) {
    findings.skip(
      'dry-run',
      'dry-run.iss',
      'iss in authorization responses',
      error instanceof HttpFailure ? error.message : String(error),
    );
  }
}

/** `/interaction/…`: the page, not its one-time handle. */
function firstSegment(url: string): string {
  const [, first = ''] = new URL(url).pathname.split('/');
  return `/${first}/…`;
}
