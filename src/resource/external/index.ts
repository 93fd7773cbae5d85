/**
 * Resource-server-only mode (SEKISHO_EXTERNAL_ISSUER): what the composition root needs to protect
 * /mcp with an external authorization server's tokens. See docs/identity.md.
 */
export { discoverWithRetry, type ExternalServerMetadata } from './discovery.ts';
export { ExternalIssuerSetupError, ExternalIssuerUnavailableError } from './errors.ts';
export { createExternalTokenVerifier, verificationPlan } from './verifier.ts';
