import { ConfigError, type EnvReader } from './envReader.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Which Redis deployment holds the shared state: exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES. */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string }
  | { kind: 'cluster'; nodes: HostPort[] };

export interface RedisConfig {
  /** REDIS_URL as given (single node); see `topology` for which deployment is in use. */
  url: string | undefined;
  /** Undefined: in-process twins (one replica only). */
  topology: RedisTopology | undefined;
  /** Credentials for the data nodes of a Sentinel or Cluster deployment (a URL carries its own). */
  username: string | undefined;
  password: string | undefined;
  sentinelPassword: string | undefined;
  tls: boolean;
  prefix: string;
  commandTimeoutMs: number;
}

/** The Redis deployment and how we use it: REDIS_URL | REDIS_SENTINELS | REDIS_CLUSTER_NODES, REDIS_PREFIX, … */
export function readRedisConfig(env: EnvReader): RedisConfig {
  const { read, int, bool, url } = env;
  const redisUrl = read('REDIS_URL');
  if (redisUrl !== undefined) url('REDIS_URL', redisUrl, ['redis:', 'rediss:']);
  return {
    url: redisUrl,
    topology: parseRedisTopology(redisUrl, read('REDIS_SENTINELS'), read('REDIS_SENTINEL_NAME'), read('REDIS_CLUSTER_NODES')),
    username: read('REDIS_USERNAME'),
    password: read('REDIS_PASSWORD'),
    sentinelPassword: read('REDIS_SENTINEL_PASSWORD'),
    tls: bool('REDIS_TLS', false),
    prefix: read('REDIS_PREFIX') ?? 'bff:',
    commandTimeoutMs: int('REDIS_COMMAND_TIMEOUT_MS', 2000, 50, 60_000),
  };
}

function parseRedisTopology(
  url: string | undefined,
  sentinels: string | undefined,
  sentinelName: string | undefined,
  clusterNodes: string | undefined,
): RedisTopology | undefined {
  const given = [url && 'REDIS_URL', sentinels && 'REDIS_SENTINELS', clusterNodes && 'REDIS_CLUSTER_NODES'].filter(Boolean);
  if (given.length > 1) throw new ConfigError(`${given.join(' and ')} are exclusive: set one Redis deployment`);
  if (sentinelName !== undefined && sentinels === undefined) throw new ConfigError('REDIS_SENTINEL_NAME needs REDIS_SENTINELS');
  if (url !== undefined) return { kind: 'single', url };
  if (sentinels !== undefined) {
    if (sentinelName === undefined) throw new ConfigError('REDIS_SENTINEL_NAME (the monitored primary\'s name) is required with REDIS_SENTINELS');
    return { kind: 'sentinel', sentinels: hostPortList('REDIS_SENTINELS', sentinels), name: sentinelName };
  }
  if (clusterNodes !== undefined) return { kind: 'cluster', nodes: hostPortList('REDIS_CLUSTER_NODES', clusterNodes) };
  return undefined;
}

/** `host:port,host:port` (IPv6 as `[::1]:port`). */
function hostPortList(name: string, raw: string): HostPort[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) throw new ConfigError(`${name} must be a comma-separated list of host:port, got "${entry}"`);
      return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
    });
}
