import { ConfigError, type EnvReader } from './envReader.js';

export interface OidcConfig {
  /** The issuer identifier exactly as configured; discovery checks the provider's metadata matches it. */
  issuer: string;
  /**
   * Where the provider's metadata is fetched when that is not the issuer's own URL (the provider
   * reached inside a compose network or cluster): the full `.well-known/openid-configuration` URL.
   * The metadata's `issuer` must still equal `issuer`, the public one that tokens carry.
   */
  discoveryUrl: URL | undefined;
  clientId: string;
  clientSecret: string;
  scopes: string;
  idTokenAlg: string;
  clockToleranceSeconds: number;
  /** Least time between two fetches of the issuer's JWKS (an unknown `kid` waits for the next one). */
  jwksCooldownMs: number;
  httpTimeoutMs: number;
  /** Plain-http issuer (development, or loopback in tests). */
  allowInsecureRequests: boolean;
  rolesClaim: string;
  /** Where Keycloak's admin-URL actions arrive: `<path>/k_logout`, `<path>/k_push_not_before` (the client's admin URL is BASE_URL + path). */
  keycloakAdminPath: string;
  /** The realm key's alg that signs admin actions. */
  adminActionAlg: string;
  /** Wait before re-checking a signed-out user's other sessions with the provider (ms). */
  logoutRecheckDelayMs: number;
}

/** Asymmetric JWS algorithms only: a logout token or admin action is never accepted with "none" or an HMAC key. */
const ASYMMETRIC_JWS_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** The OpenID Provider and this client at it: OIDC_ISSUER (or KEYCLOAK_URL + KEYCLOAK_REALM), CLIENT_ID, … */
export function readOidcConfig(env: EnvReader, context: { production: boolean }): OidcConfig {
  const { read, required, int, url, oneOf, noCredentials } = env;
  const issuerRaw =
    read('OIDC_ISSUER') ??
    (read('KEYCLOAK_URL') || read('KEYCLOAK_REALM')
      ? `${required('KEYCLOAK_URL', 'is required with KEYCLOAK_REALM (or set OIDC_ISSUER)').replace(/\/+$/, '')}/realms/${encodeURIComponent(
          required('KEYCLOAK_REALM', 'is required with KEYCLOAK_URL (or set OIDC_ISSUER)'),
        )}`
      : undefined);
  if (issuerRaw === undefined) throw new ConfigError('OIDC_ISSUER (or KEYCLOAK_URL and KEYCLOAK_REALM) is required');
  const issuerName = read('OIDC_ISSUER') ? 'OIDC_ISSUER' : 'KEYCLOAK_URL';
  const issuerUrl = noCredentials(issuerName, url(issuerName, issuerRaw));
  // OpenID Connect Discovery 1.0 §3: an issuer has no query or fragment component.
  if (issuerUrl.search || issuerUrl.hash) throw new ConfigError(`${issuerName} must not carry a query or fragment`);
  if (context.production && issuerUrl.protocol === 'http:' && !isLoopback(issuerUrl.hostname)) {
    throw new ConfigError(`OIDC_ISSUER must use https in production (http is allowed on loopback only), got ${issuerRaw}`);
  }
  const discoveryRaw = read('OIDC_DISCOVERY_URL');
  const discoveryUrl = discoveryRaw === undefined ? undefined : wellKnownUrl(noCredentials('OIDC_DISCOVERY_URL', url('OIDC_DISCOVERY_URL', discoveryRaw)));

  const scopes = read('OIDC_SCOPES') ?? 'openid profile email';
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scopes) || !scopes.split(' ').includes('openid')) {
    throw new ConfigError(`OIDC_SCOPES must be space-separated scopes including "openid" (no ID token otherwise), got "${scopes}"`);
  }
  const rolesClaim = read('ROLES_CLAIM') ?? 'realm_access.roles';
  if (!/^[^.\s]+(\.[^.\s]+)*$/.test(rolesClaim)) {
    throw new ConfigError(`ROLES_CLAIM must be a dotted claim path such as realm_access.roles, got "${rolesClaim}"`);
  }

  return {
    issuer: issuerRaw,
    clientId: required('CLIENT_ID'),
    clientSecret: required('CLIENT_SECRET'),
    scopes,
    idTokenAlg: oneOf('OIDC_ID_TOKEN_ALG', ASYMMETRIC_JWS_ALGS, 'RS256'),
    clockToleranceSeconds: int('OIDC_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
    jwksCooldownMs: int('OIDC_JWKS_COOLDOWN_MS', 2000, 0, 10_000),
    httpTimeoutMs: int('OIDC_HTTP_TIMEOUT_MS', 5000, 100, 60_000),
    discoveryUrl,
    // A plain-http discovery URL is a private-network address (compose, cluster): allowed in production.
    allowInsecureRequests: issuerUrl.protocol === 'http:' || discoveryUrl?.protocol === 'http:',
    rolesClaim,
    keycloakAdminPath: urlPath('KEYCLOAK_ADMIN_PATH', read('KEYCLOAK_ADMIN_PATH') ?? '/auth/keycloak'),
    adminActionAlg: oneOf('KEYCLOAK_ADMIN_ACTION_ALG', ASYMMETRIC_JWS_ALGS, 'RS256'),
    logoutRecheckDelayMs: int('LOGOUT_RECHECK_DELAY_MS', 300, 0, 10_000),
  };
}

/** An absolute path without a trailing slash, query or odd characters, for mounting routes. */
function urlPath(name: string, raw: string): string {
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(raw)) {
    throw new ConfigError(`${name} must be a path like /auth/keycloak (no trailing slash, query or special characters), got "${raw}"`);
  }
  return raw;
}

function wellKnownUrl(raw: URL): URL {
  if (raw.search || raw.hash) throw new ConfigError('OIDC_DISCOVERY_URL must not carry a query or fragment');
  return metadataUrl(raw);
}

/** An issuer-style base URL gets OpenID Connect Discovery 1.0 §4's suffix; a `.well-known` URL is kept. */
export function metadataUrl(base: URL): URL {
  if (base.pathname.includes('/.well-known/')) return base;
  return new URL(`${base.href.replace(/\/+$/, '')}/.well-known/openid-configuration`);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
