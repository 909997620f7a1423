import { randomBytes } from 'node:crypto';
import { ConfigError, type EnvReader } from './envReader.js';

export interface SessionConfig {
  secrets: string[];
  /** True when SESSION_SECRET was unset and a per-process secret was made (development only). */
  secretGenerated: boolean;
  cookieName: string;
  secureCookie: boolean;
  idleSeconds: number;
  absoluteSeconds: number;
  refreshSkewSeconds: number;
  livenessIntervalSeconds: number;
}

/** The session cookie and its lifetimes: SESSION_SECRET, SESSION_COOKIE_NAME, SESSION_*_SECONDS, … */
export function readSessionConfig(env: EnvReader, context: { production: boolean; baseUrl: URL }): SessionConfig {
  const { read, int } = env;
  const { production } = context;
  const secretsRaw = read('SESSION_SECRET');
  const secrets = secretsRaw ? secretsRaw.split(',').map((s) => s.trim()).filter(Boolean) : [];
  if (production && secrets.length === 0) throw new ConfigError('SESSION_SECRET is required in production');
  if (production && secrets.some((s) => s.length < 32)) {
    throw new ConfigError('SESSION_SECRET must be at least 32 characters (each comma-separated entry) in production');
  }
  const secureCookie = context.baseUrl.protocol === 'https:';
  if (production && !secureCookie) {
    throw new ConfigError('BASE_URL must use https in production: session cookies must be Secure');
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

  return {
    secrets: secrets.length > 0 ? secrets : [randomBytes(32).toString('base64url')],
    secretGenerated: secrets.length === 0,
    cookieName: (secureCookie ? '__Host-' : '') + cookieName,
    secureCookie,
    idleSeconds,
    absoluteSeconds,
    refreshSkewSeconds: int('TOKEN_REFRESH_SKEW_SECONDS', 60, 0, 3600),
    livenessIntervalSeconds: int('LIVENESS_INTERVAL_SECONDS', 60, 0, 24 * 3600),
  };
}
