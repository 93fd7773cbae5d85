/**
 * Grant type names Sekisho serves beyond the code flow, in a module without oidc-provider so the CLI
 * can name them without loading the authorization server.
 */
export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 7523 JWT bearer grant, which carries enterprise ID-JAG assertions. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Grant types only an operator may give a client (`sekisho clients add`): no consent page guards them. */
export const OPERATOR_ONLY_GRANTS: readonly string[] = [CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT];
