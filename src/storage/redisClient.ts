import { createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AbstractConnector, Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/loadConfig.js';
import type { HostPort, RedisTopology } from '../config/redisConfig.js';
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
 *   A subscriber (`createRedisSubscriber`) is one plain connection to any node, moving to the next
 *   known node when it reconnects (classic pub/sub: see `clusterNodeConnector`).
 */
export function createRedisClient(settings: RedisSettings, log: Logger, role: string): RedisConnection {
  return connect(settings, log, role, undefined);
}

/**
 * The pub/sub connection beside `commands`: always one plain connection (a Cluster's known nodes,
 * read from `commands`, are tried in turn), which emits `ready` after every reconnect.
 */
export function createRedisSubscriber(settings: RedisSettings, log: Logger, commands: RedisConnection): Redis {
  return connect(settings, log, 'subscriber', commands) as Redis;
}

function connect(settings: RedisSettings, log: Logger, role: string, subscriberFor: RedisConnection | undefined): RedisConnection {
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
  if (topology.kind === 'cluster' && !subscriberFor) {
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
      // The slot map is also read again on a timer. ioredis 6 re-reads it only on some errors, and
      // its `slotsRefreshInterval` has no default despite its docs. A primary that died while this
      // client was idle left the map naming the dead node; the commands that followed met MOVED
      // answers that came back as errors without a re-read, so that shard's keys answered 503 until
      // a restart (test/scale/redisCluster.test.ts). A CLUSTER SLOTS every 2 s costs next to nothing.
      slotsRefreshInterval: 2000,
      redisOptions: { ...common, ...credentials },
    });
  } else {
    const placement: RedisOptions =
      topology.kind === 'cluster'
        ? { Connector: clusterNodeConnector(() => knownNodes(subscriberFor!, topology.nodes), settings.tls), ...credentials }
        : topology.kind === 'sentinel'
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
    const redisOptions: RedisOptions = {
      ...common,
      ...placement,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      retryStrategy: backoff,
      // 1 = reconnect (to the primary the sentinels name now) without resending the command.
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    };
    redis = topology.kind === 'single' ? new Redis(topology.url, redisOptions) : new Redis(redisOptions);
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

/** The cluster's nodes as the command connection knows them now (discovered ones included), else the seeds. */
function knownNodes(cluster: RedisConnection, seeds: HostPort[]): HostPort[] {
  const nodes = cluster instanceof Cluster ? cluster.nodes('all').map((node) => ({ host: node.options.host!, port: node.options.port! })) : [];
  return nodes.length > 0 ? nodes : seeds;
}

/**
 * How a subscriber connects on a Cluster: one plain connection to any node, the next known one at
 * each reconnect. A classic PUBLISH reaches subscribers on every node over the cluster bus, so any
 * node will do. ioredis's own Cluster subscriber replaces a lost connection silently; this one is an
 * ordinary connection that emits `ready` after every reconnect and re-subscribes its channels, as on
 * one node or Sentinel, so the event bus knows when messages may have been missed.
 */
function clusterNodeConnector(nodes: () => HostPort[], tls: boolean) {
  let next = Math.floor(Math.random() * 1024);
  return class ClusterNodeConnector extends AbstractConnector {
    constructor(options: unknown) {
      super((options as { disconnectTimeout?: number }).disconnectTimeout ?? 2000);
    }

    override connect() {
      const list = nodes();
      const { host, port } = list[next++ % list.length]!;
      this.connecting = true;
      return new Promise<ReturnType<typeof createConnection>>((resolve, reject) => {
        // Like ioredis's own connector: a disconnect() between now and the next tick wins.
        process.nextTick(() => {
          if (!this.connecting) return reject(new Error('Connection is closed.'));
          const stream = tls ? tlsConnect({ host, port }) : createConnection({ host, port });
          stream.once('error', (err) => (this.firstError = err));
          this.stream = stream;
          resolve(stream);
        });
      });
    }
  };
}
