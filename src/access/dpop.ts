/**
 * DPoP (RFC 9449) proof algorithms: one list for what the authorization server advertises and
 * accepts at its token endpoint and what the resource server accepts at /mcp. Asymmetric only (the
 * MCP DPoP profile forbids `none` and HMAC).
 */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const;
