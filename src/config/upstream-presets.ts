/**
 * What Sekisho knows about the common identity providers, so an operator sets an issuer, a client id
 * and a secret and gets the right scopes and claim names. Each preset says which issuers it fits
 * (the "issuer template"), which scopes to ask for, and where the provider puts groups/roles and a
 * verified e-mail. docs/identity.md tells, per preset, what to register at the provider.
 *
 * GitHub is not here: it is plain OAuth 2 without ID tokens, so none of the checks this sign-in rests
 * on (a signed `iss`/`aud`/`nonce`, RFC 9207 `iss`) exist for it. Put an OpenID provider in front.
 */

export type PresetName = 'generic' | 'google' | 'entra' | 'okta' | 'auth0' | 'keycloak';

export interface UpstreamPreset {
  readonly name: PresetName;
  /** Shown on the button when the operator names no provider. */
  readonly displayName: string;
  /** The issuer shape, for docs and for the error when an issuer does not fit. */
  readonly issuerTemplate: string;
  /** True when `issuer` is one this preset describes. */
  readonly fits: (issuer: URL) => boolean;
  readonly scopes: readonly string[];
  /** Claims (dotted paths for nested ones) whose string values are the user's groups or roles. */
  readonly groupClaims: readonly string[];
  /** The claim that says the `email` claim was verified by the provider (true/"true"). */
  readonly emailVerifiedClaim: string;
  /**
   * Groups/roles that make an admin when the operator names none (SEKISHO_UPSTREAM_ADMIN_GROUPS):
   * a name nobody has by accident, which an IdP administrator creates on purpose.
   */
  readonly adminGroups: readonly string[];
  /** Why an issuer that fits the template may still be refused (e.g. a multi-tenant endpoint). */
  readonly refuse?: (issuer: URL) => string | undefined;
}

const host = (issuer: URL) => issuer.hostname.toLowerCase();

/** The conventional admin group (Entra uses an app role, `Sekisho.Admin`; Google has no groups). */
export const SEKISHO_ADMINS = 'sekisho-admins';

export const PRESETS: Readonly<Record<PresetName, UpstreamPreset>> = Object.freeze({
  generic: {
    name: 'generic',
    displayName: 'OpenID Connect',
    issuerTemplate: 'https://<your issuer>',
    fits: () => true,
    scopes: ['openid', 'email', 'profile'],
    groupClaims: ['groups'],
    emailVerifiedClaim: 'email_verified',
    adminGroups: [SEKISHO_ADMINS],
  },
  google: {
    name: 'google',
    displayName: 'Google',
    issuerTemplate: 'https://accounts.google.com',
    fits: (issuer) => host(issuer) === 'accounts.google.com',
    scopes: ['openid', 'email', 'profile'],
    // Google puts no groups in ID tokens; `hd` is the Workspace domain (use the e-mail domain rule).
    groupClaims: [],
    emailVerifiedClaim: 'email_verified',
    adminGroups: [],
  },
  entra: {
    name: 'entra',
    displayName: 'Microsoft',
    issuerTemplate: 'https://login.microsoftonline.com/<tenant id>/v2.0',
    fits: (issuer) => host(issuer) === 'login.microsoftonline.com',
    scopes: ['openid', 'email', 'profile'],
    // App roles arrive in `roles`; security groups (object ids) in `groups` once configured.
    groupClaims: ['roles', 'groups'],
    // Entra does not send email_verified; `xms_edov` (optional claim) says the domain is verified.
    emailVerifiedClaim: 'xms_edov',
    adminGroups: ['Sekisho.Admin'],
    refuse: (issuer) => {
      const tenant = issuer.pathname.split('/')[1]?.toLowerCase();
      return tenant === 'common' || tenant === 'organizations' || tenant === 'consumers'
        ? `the ${tenant} endpoint has no single issuer; use https://login.microsoftonline.com/<tenant id>/v2.0`
        : undefined;
    },
  },
  okta: {
    name: 'okta',
    displayName: 'Okta',
    issuerTemplate: 'https://<org>.okta.com/oauth2/default (or https://<org>.okta.com)',
    fits: (issuer) => /(^|\.)(okta|oktapreview|okta-emea)\.com$/.test(host(issuer)),
    scopes: ['openid', 'email', 'profile', 'groups'],
    groupClaims: ['groups'],
    emailVerifiedClaim: 'email_verified',
    adminGroups: [SEKISHO_ADMINS],
  },
  auth0: {
    name: 'auth0',
    displayName: 'Auth0',
    issuerTemplate: 'https://<tenant>.<region>.auth0.com/ (the trailing slash is part of it)',
    fits: (issuer) => host(issuer).endsWith('.auth0.com'),
    scopes: ['openid', 'email', 'profile'],
    // Auth0 releases roles only through an Action, as a namespaced claim; name it in groupsClaim.
    groupClaims: [],
    emailVerifiedClaim: 'email_verified',
    adminGroups: [SEKISHO_ADMINS],
  },
  keycloak: {
    name: 'keycloak',
    displayName: 'Keycloak',
    issuerTemplate: 'https://<host>/realms/<realm>',
    fits: (issuer) => /^\/(auth\/)?realms\/[^/]+$/.test(issuer.pathname),
    scopes: ['openid', 'email', 'profile'],
    // `groups` needs the Group Membership mapper; realm roles are always in realm_access.roles.
    groupClaims: ['groups', 'realm_access.roles'],
    emailVerifiedClaim: 'email_verified',
    adminGroups: [SEKISHO_ADMINS],
  },
});

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The preset an issuer looks like, for when the operator names none. */
export function presetForIssuer(issuer: URL): UpstreamPreset {
  for (const name of ['google', 'entra', 'okta', 'auth0', 'keycloak'] as const) {
    if (PRESETS[name].fits(issuer)) return PRESETS[name];
  }
  return PRESETS.generic;
}
