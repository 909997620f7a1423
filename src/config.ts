import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** Thrown for a missing or malformed setting; its message is the one line start-up prints. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Config {
  port: number;
  host: string;
  production: boolean;
  logLevel: string;
  /** Public URL of this backend; redirect and back-channel URLs are built from it. */
  baseUrl: URL;
  /** FRONTEND_URL entries; the first is the default post-login target and post-logout redirect. */
  frontendUrls: URL[];
  /** Origins allowed by CORS and by the CSRF Origin check (the frontends' and our own). */
  allowedOrigins: string[];
  trustProxy: boolean | number | string;
  oidc: {
    /** The issuer identifier exactly as configured; discovery checks the provider's metadata matches it. */
    issuer: string;
    clientId: string;
    clientSecret: string;
    scopes: string;
    idTokenAlg: string;
    clockToleranceSeconds: number;
    httpTimeoutMs: number;
    /** Plain-http issuer (development, or loopback in tests). */
    allowInsecureRequests: boolean;
    rolesClaim: string;
  };
  session: {
    secrets: string[];
    /** True when SESSION_SECRET was unset and a per-process secret was made (development only). */
    secretGenerated: boolean;
    cookieName: string;
    secureCookie: boolean;
    idleSeconds: number;
    absoluteSeconds: number;
    refreshSkewSeconds: number;
    livenessIntervalSeconds: number;
  };
  redis: { url: string | undefined; prefix: string; commandTimeoutMs: number };
  database: {
    url: string | undefined;
    pgliteDir: string | undefined;
    poolMax: number;
    /** Time to open a connection or wait for a free one in the pool. */
    connectTimeoutMs: number;
    /** Server-side `statement_timeout`; the client gives up a little later if the server goes silent. */
    statementTimeoutMs: number;
  };
  sse: { heartbeatSeconds: number; retryMs: number; maxBufferedBytes: number };
  board: { moderatorRole: string };
  shutdown: {
    /** SIGTERM → this long with readiness off but still serving, before we stop accepting. */
    delaySeconds: number;
    /** Then at most this long for in-flight requests to finish. */
    graceSeconds: number;
  };
}

type Env = Record<string, string | undefined>;

/** The only reader of the environment: every other module receives `Config`. */
export function loadConfig(env: Env = process.env): Config {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const required = (name: string, why = 'is required'): string => {
    const value = read(name);
    if (value === undefined) throw new ConfigError(`${name} ${why}`);
    return value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
    return value;
  };
  const url = (name: string, raw: string, protocols = ['http:', 'https:']): URL => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(`${name} must be an absolute URL, got "${raw}"`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
    }
    return parsed;
  };

  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = read(name) ?? fallback;
    if (!allowed.includes(value as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
  const noCredentials = (name: string, parsed: URL): URL => {
    if (parsed.username || parsed.password) throw new ConfigError(`${name} must not carry a user name or password`);
    return parsed;
  };

  const production = oneOf('NODE_ENV', ['development', 'production', 'test'], 'development') === 'production';
  const port = int('PORT', 3001, 0, 65535);
  const host = read('HOST') ?? '0.0.0.0';
  if (!isIP(host) && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host)) {
    throw new ConfigError(`HOST must be an IP address or a host name, got "${host}"`);
  }
  const baseUrl = noCredentials('BASE_URL', url('BASE_URL', read('BASE_URL') ?? `http://localhost:${port}`));
  if (baseUrl.search || baseUrl.hash) throw new ConfigError('BASE_URL must not carry a query or fragment');
  // The routes live at /auth and /api of the origin; a path here would be silently dropped.
  if (baseUrl.pathname !== '/') {
    throw new ConfigError(`BASE_URL must be an origin without a path (the app serves /auth and /api at its root), got "${baseUrl.pathname}"`);
  }
  const frontendUrls = (read('FRONTEND_URL') ?? baseUrl.href)
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => noCredentials('FRONTEND_URL', url('FRONTEND_URL', entry)));
  if (frontendUrls.length === 0) throw new ConfigError('FRONTEND_URL must list at least one URL');

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
  if (production && issuerUrl.protocol === 'http:' && !isLoopback(issuerUrl.hostname)) {
    throw new ConfigError(`OIDC_ISSUER must use https in production (http is allowed on loopback only), got ${issuerRaw}`);
  }

  const secretsRaw = read('SESSION_SECRET');
  const secrets = secretsRaw ? secretsRaw.split(',').map((s) => s.trim()).filter(Boolean) : [];
  if (production && secrets.length === 0) throw new ConfigError('SESSION_SECRET is required in production');
  if (production && secrets.some((s) => s.length < 32)) {
    throw new ConfigError('SESSION_SECRET must be at least 32 characters (each comma-separated entry) in production');
  }
  const secureCookie = baseUrl.protocol === 'https:';
  if (production && !secureCookie) {
    throw new ConfigError('BASE_URL must use https in production: session cookies must be Secure');
  }

  const redisUrl = read('REDIS_URL');
  if (redisUrl !== undefined) url('REDIS_URL', redisUrl, ['redis:', 'rediss:']);
  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined) url('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);
  const pgliteDir = read('PGLITE_DIR');
  if (databaseUrl !== undefined && pgliteDir !== undefined) {
    throw new ConfigError('PGLITE_DIR has no effect when DATABASE_URL is set: set one of them');
  }

  const scopes = read('OIDC_SCOPES') ?? 'openid profile email';
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scopes) || !scopes.split(' ').includes('openid')) {
    throw new ConfigError(`OIDC_SCOPES must be space-separated scopes including "openid" (no ID token otherwise), got "${scopes}"`);
  }
  const rolesClaim = read('ROLES_CLAIM') ?? 'realm_access.roles';
  if (!/^[^.\s]+(\.[^.\s]+)*$/.test(rolesClaim)) {
    throw new ConfigError(`ROLES_CLAIM must be a dotted claim path such as realm_access.roles, got "${rolesClaim}"`);
  }
  const cookieName = read('SESSION_COOKIE_NAME') ?? 'bff.sid';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName) || /^__(host|secure)-/i.test(cookieName)) {
    throw new ConfigError(
      `SESSION_COOKIE_NAME must be a plain cookie name (letters, digits, !#$%&'*+-.^_\`|~; the __Host- prefix is added for https), got "${cookieName}"`,
    );
  }

  const idleSeconds = int('SESSION_IDLE_SECONDS', 30 * 60, 60, 30 * 24 * 3600);
  const absoluteSeconds = int('SESSION_ABSOLUTE_SECONDS', 12 * 3600, 60, 90 * 24 * 3600);
  if (absoluteSeconds < idleSeconds) {
    throw new ConfigError(`SESSION_ABSOLUTE_SECONDS (${absoluteSeconds}) must not be shorter than SESSION_IDLE_SECONDS (${idleSeconds})`);
  }

  const logLevel = oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info');

  return {
    port,
    host,
    production,
    logLevel,
    baseUrl,
    frontendUrls,
    allowedOrigins: [...new Set([baseUrl.origin, ...frontendUrls.map((u) => u.origin)])],
    trustProxy: parseTrustProxy(read('TRUST_PROXY')),
    oidc: {
      issuer: issuerRaw,
      clientId: required('CLIENT_ID'),
      clientSecret: required('CLIENT_SECRET'),
      scopes,
      // Asymmetric JWS algorithms only: a logout token is never accepted with "none" or an HMAC key.
      idTokenAlg: oneOf('OIDC_ID_TOKEN_ALG', ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'], 'RS256'),
      clockToleranceSeconds: int('OIDC_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
      httpTimeoutMs: int('OIDC_HTTP_TIMEOUT_MS', 5000, 100, 60_000),
      allowInsecureRequests: issuerUrl.protocol === 'http:',
      rolesClaim,
    },
    session: {
      secrets: secrets.length > 0 ? secrets : [randomBytes(32).toString('base64url')],
      secretGenerated: secrets.length === 0,
      cookieName: (secureCookie ? '__Host-' : '') + cookieName,
      secureCookie,
      idleSeconds,
      absoluteSeconds,
      refreshSkewSeconds: int('TOKEN_REFRESH_SKEW_SECONDS', 60, 0, 3600),
      livenessIntervalSeconds: int('LIVENESS_INTERVAL_SECONDS', 60, 0, 24 * 3600),
    },
    redis: {
      url: redisUrl,
      prefix: read('REDIS_PREFIX') ?? 'bff:',
      commandTimeoutMs: int('REDIS_COMMAND_TIMEOUT_MS', 2000, 50, 60_000),
    },
    database: {
      url: databaseUrl,
      pgliteDir,
      poolMax: int('DATABASE_POOL_MAX', 10, 1, 200),
      connectTimeoutMs: int('DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 60_000),
      statementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    sse: {
      heartbeatSeconds: int('SSE_HEARTBEAT_SECONDS', 15, 1, 3600),
      retryMs: int('SSE_RETRY_MS', 3000, 0, 600_000),
      maxBufferedBytes: int('SSE_MAX_BUFFERED_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    },
    board: { moderatorRole: read('MODERATOR_ROLE') ?? 'board-admin' },
    shutdown: {
      delaySeconds: int('SHUTDOWN_DELAY_SECONDS', 0, 0, 300),
      graceSeconds: int('SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    },
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Express's `trust proxy`: true, false, a hop count, or proxy addresses and subnets (plus the names
 * loopback, linklocal, uniquelocal), comma-separated. Checked with proxy-addr, the library Express
 * itself compiles the value with, so what passes here means the same there.
 */
function parseTrustProxy(raw: string | undefined): boolean | number | string {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim());
  try {
    if (entries.some((entry) => entry === '')) throw new Error('empty entry');
    proxyaddr.compile(entries);
  } catch {
    throw new ConfigError(
      `TRUST_PROXY must be true, false, a hop count, or comma-separated proxy addresses/subnets (or loopback, linklocal, uniquelocal), got "${raw}"`,
    );
  }
  return entries.join(',');
}
