import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config, RedisTopology } from '../config.js';
import { describeError, type Logger } from '../logger.js';

/** A connection to whichever Redis deployment is configured; both kinds take the same commands. */
export type RedisConnection = Redis | Cluster;

export type RedisSettings = Omit<Config['redis'], 'topology'> & { topology: RedisTopology };

/**
 * A connection that fails fast, on a single node, a Sentinel-managed primary or a Cluster: no
 * offline queue and a command timeout, so a Redis outage (or a failover in progress) turns into 503
 * answers at once instead of requests piling up. ioredis keeps reconnecting in the background and
 * re-subscribes a subscriber connection's channels when it is back.
 *
 * - Sentinel: the primary is asked of the sentinels at each (re)connect; `failoverDetector` drops
 *   the connection as soon as any sentinel announces `+switch-master`, and a `READONLY` reply (we
 *   are still talking to the demoted primary) forces a reconnect too. The failed command is not
 *   resent: it answers 503 and the client retries.
 * - Cluster: slots are discovered from the seed nodes and followed on `MOVED`/failover; commands
 *   are pipelined per node. Every command and script we send touches one key (src/storage/redisKv.ts).
 */
export function createRedisClient(settings: RedisSettings, log: Logger, role: string): RedisConnection {
  const { topology } = settings;
  const common: RedisOptions = {
    connectionName: `board-bff:${role}`,
    maxRetriesPerRequest: 1,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: Math.max(settings.commandTimeoutMs, 2000),
    ...(settings.tls ? { tls: {} } : {}),
  };
  const credentials: RedisOptions = {
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
  };
  const backoff = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), 3000);

  let redis: RedisConnection;
  if (topology.kind === 'cluster') {
    redis = new Cluster(topology.nodes, {
      enableOfflineQueue: false,
      // Commands issued in the same tick travel in one write per node: under load, far fewer syscalls.
      enableAutoPipelining: true,
      clusterRetryStrategy: backoff,
      // A failover moves slots: re-read the slot map quickly, and retry a command bounced by a dying node once.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: Math.max(settings.commandTimeoutMs, 1000),
      redisOptions: { ...common, ...credentials },
    });
  } else {
    const placement: RedisOptions =
      topology.kind === 'sentinel'
        ? {
            sentinels: topology.sentinels,
            name: topology.name,
            role: 'master',
            failoverDetector: true,
            sentinelRetryStrategy: backoff,
            sentinelCommandTimeout: settings.commandTimeoutMs,
            ...(settings.sentinelPassword ? { sentinelPassword: settings.sentinelPassword } : {}),
            ...(settings.tls ? { enableTLSForSentinelMode: true } : {}),
            ...credentials,
          }
        : {};
    const options: RedisOptions = {
      ...common,
      ...placement,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      retryStrategy: backoff,
      // 1 = reconnect (to the primary the sentinels name now) without resending the command.
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    };
    redis = topology.kind === 'single' ? new Redis(topology.url, options) : new Redis(options);
  }

  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) log.warn({ role, topology: topology.kind, err: describeError(err) }, 'Redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ role, topology: topology.kind }, 'Redis connection restored');
    down = false;
  });
  return redis;
}
