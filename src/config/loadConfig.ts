import { readDatabaseConfig, type DatabaseConfig } from './databaseConfig.js';
import { createEnvReader, type Env } from './envReader.js';
import { readOidcConfig, type OidcConfig } from './oidcConfig.js';
import { readRateLimitConfig, type RateLimitSettings } from './rateLimitConfig.js';
import { readRedisConfig, type RedisConfig } from './redisConfig.js';
import { readServerConfig, type ServerConfig } from './serverConfig.js';
import { readSessionConfig, type SessionConfig } from './sessionConfig.js';

export { ConfigError } from './envReader.js';

/** Every setting, validated; one section per file of this folder. */
export interface Config extends ServerConfig {
  oidc: OidcConfig;
  session: SessionConfig;
  redis: RedisConfig;
  rateLimit: RateLimitSettings;
  audit: { retentionDays: number };
  database: DatabaseConfig;
  sse: { heartbeatSeconds: number; retryMs: number; maxBufferedBytes: number };
  board: { moderatorRole: string };
}

/**
 * The only reader of the environment: every other module receives `Config` (or its slice). Throws
 * a ConfigError naming the first missing or malformed setting.
 */
export function loadConfig(env: Env = process.env): Config {
  const reader = createEnvReader(env);
  const { read, int } = reader;
  const server = readServerConfig(reader);
  return {
    ...server,
    oidc: readOidcConfig(reader, server),
    session: readSessionConfig(reader, server),
    redis: readRedisConfig(reader),
    database: readDatabaseConfig(reader),
    rateLimit: readRateLimitConfig(reader),
    audit: { retentionDays: int('AUDIT_RETENTION_DAYS', 365, 1, 3650) },
    sse: {
      heartbeatSeconds: int('SSE_HEARTBEAT_SECONDS', 15, 1, 3600),
      retryMs: int('SSE_RETRY_MS', 3000, 0, 600_000),
      maxBufferedBytes: int('SSE_MAX_BUFFERED_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    },
    board: { moderatorRole: read('MODERATOR_ROLE') ?? 'board-admin' },
  };
}
