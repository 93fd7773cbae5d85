/**
 * Symmetric secrets for cookies and CSRF tokens, derived (HKDF-SHA256, RFC 5869) from the signing
 * keys already persisted in storage — so nothing is hard-coded, every instance sharing the database
 * agrees on them, and nothing extra has to be stored. Each purpose has its own `info` label, so the
 * derived keys are independent of each other and of the ECDSA key they come from.
 *
 * Cookie keys follow the signing keys' order (active first): Koa's keygrip signs with the first and
 * accepts all, so cookies signed before a key rotation stay valid while the old key is published.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export interface ServerSecrets {
  /** For oidc-provider `cookies.keys` and our own signed cookies. */
  readonly cookieKeys: readonly string[];
  /**
   * DPoP nonce keys (32 bytes each), active first: the first is oidc-provider's
   * `features.dPoP.nonceSecret` (the token endpoint); /mcp accepts nonces made with any of them
   * (`resource/dpop-nonce.ts`), so one nonce serves the whole origin.
   */
  readonly dpopNonceKeys: readonly Buffer[];
  /**
   * HMAC keys (32 bytes each), active first, for the 2026-07-28 multi-round-trip `requestState`
   * (`mcp/request-state-codec.ts`): the retry of an `input_required` call may land on any instance,
   * which must verify what another one sealed — a per-process key would refuse it there.
   */
  readonly requestStateKeys: readonly Buffer[];
  /** HMAC-SHA256 token binding `purpose` to `binding` (an interaction id, a session id…). */
  csrfToken(purpose: string, binding: string): string;
  csrfValid(purpose: string, binding: string, presented: unknown): boolean;
  /** Signs and checks small cookie values of our own (the account page session). */
  sign(value: string): string;
  unsign(signed: string | undefined): string | undefined;
}

export function deriveSecrets(jwks: { readonly keys: readonly { readonly d?: unknown }[] }): ServerSecrets {
  const material: Buffer[] = [];
  for (const key of jwks.keys) {
    const d = typeof key.d === 'string' ? Buffer.from(key.d, 'base64url') : undefined;
    if (d && d.length >= 32) material.push(d);
  }
  if (material.length === 0) throw new Error('no private signing key to derive server secrets from');
  const derive = (ikm: Buffer, info: string) => Buffer.from(hkdfSync('sha256', ikm, 'sekisho', info, 32));
  const cookieKeys = material.map((ikm) => derive(ikm, 'cookie-signing').toString('base64url'));
  // Sign with the active key, accept every published one: during a rotation another instance may still
  // hand out forms made with the previous key (or already with the next), and both must post back.
  const csrfKeys = material.map((ikm) => derive(ikm, 'csrf'));
  const valueKeys = material.map((ikm) => derive(ikm, 'signed-value'));
  const dpopNonceKeys = material.map((ikm) => derive(ikm, 'dpop-nonce'));
  const requestStateKeys = material.map((ikm) => derive(ikm, 'mcp-request-state'));

  const mac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest('base64url');
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };

  return {
    cookieKeys,
    dpopNonceKeys,
    requestStateKeys,
    csrfToken: (purpose, binding) => mac(csrfKeys[0]!, `${purpose}\0${binding}`),
    csrfValid(purpose, binding, presented) {
      if (typeof presented !== 'string') return false;
      return csrfKeys.some((key) => same(mac(key, `${purpose}\0${binding}`), presented));
    },
    sign: (value) => `${value}.${mac(valueKeys[0]!, value)}`,
    unsign(signed) {
      if (!signed) return undefined;
      const i = signed.lastIndexOf('.');
      if (i <= 0) return undefined;
      const value = signed.slice(0, i);
      const sig = signed.slice(i + 1);
      return valueKeys.some((key) => same(mac(key, value), sig)) ? value : undefined;
    },
  };
}
