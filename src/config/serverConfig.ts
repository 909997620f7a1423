import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import proxyaddr from 'proxy-addr';
import { ConfigError, type EnvReader } from './envReader.js';

export interface ServerConfig {
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
  /** Names this process in audit entries and logs (REPLICA_NAME, default host name and pid). */
  replicaName: string;
  /** Directory of the built board app served on BASE_URL's origin (WEB_DIR; "off" serves none). */
  webDir: string | undefined;
  shutdown: {
    /** SIGTERM → this long with readiness off but still serving, before we stop accepting. */
    delaySeconds: number;
    /** Then at most this long for in-flight requests to finish. */
    graceSeconds: number;
  };
}

/** The process and its public face: NODE_ENV, PORT, HOST, BASE_URL, FRONTEND_URL, LOG_LEVEL, TRUST_PROXY, … */
export function readServerConfig(env: EnvReader): ServerConfig {
  const { read, int, url, oneOf, noCredentials } = env;
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

  return {
    port,
    host,
    production,
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    baseUrl,
    frontendUrls,
    allowedOrigins: [...new Set([baseUrl.origin, ...frontendUrls.map((u) => u.origin)])],
    trustProxy: parseTrustProxy(read('TRUST_PROXY')),
    replicaName: read('REPLICA_NAME') ?? `${hostname()}:${process.pid}`,
    webDir: read('WEB_DIR') === 'off' ? undefined : (read('WEB_DIR') ?? defaultWebDir),
    shutdown: {
      delaySeconds: int('SHUTDOWN_DELAY_SECONDS', 0, 0, 300),
      graceSeconds: int('SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    },
  };
}

/**
 * web/dist at the top of the project, where `npm run build:web` puts the app. Found from the nearest
 * folder above this module holding package.json, not a fixed `../..`: this module runs at different
 * depths as src/config/serverConfig.ts (tsx) and inside the bundled dist/server.js.
 */
const defaultWebDir = join(projectRoot(dirname(fileURLToPath(import.meta.url))), 'web', 'dist');

function projectRoot(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at;
    if (dirname(at) === at) return dir;
  }
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
