/**
 * An in-memory OAuth client provider, the way a real MCP host implements one: it registers itself
 * dynamically, keeps its tokens and PKCE verifier, and "opens the browser" by recording the
 * authorization URL (the test then drives Chromium there). It gives the clients no hints: no
 * pre-registered client, no scope, no metadata URLs — everything comes from discovery.
 *
 * The same object satisfies the v2 (`@modelcontextprotocol/client`) and v1
 * (`@modelcontextprotocol/sdk`) provider interfaces; their shapes agree on every member used here.
 */
import { randomBytes } from 'node:crypto';

// Structural types shared by both SDK generations (kept loose on purpose).
type Json = Record<string, unknown>;
export interface Tokens extends Json {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  scope?: string;
  expires_in?: number;
}

export interface ProviderOptions {
  /** Loopback callback the browser is sent to (`startCallbackServer`). */
  readonly redirectUrl: string;
  readonly clientName?: string;
}

export class MemoryOAuthProvider {
  readonly redirectUrl: string;
  readonly clientName: string;
  /** Every authorization URL the client asked us to open, oldest first. */
  readonly authorizationUrls: URL[] = [];
  /** Every token set saved, oldest first. */
  readonly tokenHistory: Tokens[] = [];
  readonly invalidations: string[] = [];
  private client: Json | undefined;
  private current: Tokens | undefined;
  private verifier: string | undefined;
  private discovery: Json | undefined;
  private expectedState: string | undefined;

  constructor(opts: ProviderOptions) {
    this.redirectUrl = opts.redirectUrl;
    this.clientName = opts.clientName ?? 'Sekisho e2e client';
  }

  get clientMetadata() {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.expectedState = randomBytes(16).toString('base64url');
    return this.expectedState;
  }

  /** The callback must carry the state we sent (the SDK leaves this check to the host). */
  checkState(callback: URL): void {
    const got = callback.searchParams.get('state');
    if (got !== this.expectedState) throw new Error(`state mismatch: sent ${this.expectedState}, got ${got}`);
  }

  clientInformation() {
    return this.client as never;
  }
  saveClientInformation(info: Json) {
    this.client = info;
  }
  tokens() {
    return this.current as never;
  }
  saveTokens(tokens: Tokens) {
    this.current = tokens;
    this.tokenHistory.push(tokens);
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(new URL(url.href));
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
  saveDiscoveryState(state: Json) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery as never;
  }
  invalidateCredentials(scope: string) {
    this.invalidations.push(scope);
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'tokens') this.current = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.discovery = undefined;
  }

  /** The last authorization URL, or a clear failure when the client never asked for one. */
  lastAuthorizationUrl(): URL {
    const url = this.authorizationUrls.at(-1);
    if (!url) throw new Error('the client never started an authorization request');
    return url;
  }
  get currentTokens(): Tokens | undefined {
    return this.current;
  }
  /** Test hook: what a host holds after its access token went bad but its refresh token did not. */
  corruptAccessToken() {
    if (this.current) this.current = { ...this.current, access_token: 'expired-or-garbage' };
  }
}
