import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { startRedisProcess } from './redisProcess.js';
import { stopProcess } from './stopProcess.js';

const run = promisify(execFile);

/**
 * Multi-node Redis deployments built from the machine's own `redis-server` / `redis-sentinel`, on
 * free loopback ports, in a temporary directory: each process is started here and stopped by its
 * PID (never by name), and nothing is persisted (`--save ""`).
 */
export interface RedisNode {
  port: number;
  child: ChildProcess;
}

export interface RedisCluster {
  primaries: RedisNode[];
  replicas: RedisNode[];
  /** `REDIS_CLUSTER_NODES` for the app. */
  seeds: string;
  stop(): Promise<void>;
}

export interface RedisSentinelSet {
  name: string;
  primary: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  /** `REDIS_SENTINELS` for the app. */
  seeds: string;
  /** The address the sentinels name as primary right now. */
  currentPrimary(): Promise<number>;
  stop(): Promise<void>;
}

/** Debian's `redis-sentinel` package, or `redis-server --sentinel` where only the server is installed. */
function sentinelCommand(): [string, string[]] {
  return existsSync('/usr/bin/redis-sentinel') ? ['redis-sentinel', []] : ['redis-server', ['--sentinel']];
}

/** Redis exits at once on SIGTERM; past this it is killed. */
const STOP_GRACE_MS = 5000;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function command(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0]!, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

/** Fails loudly, naming the package, when a tool these suites need is not installed. */
async function requireTool(name: string, debianPackage: string): Promise<void> {
  try {
    await run('which', [name]);
  } catch {
    throw new Error(`${name} is required for the multi-node Redis tests; install it (Debian: apt-get install ${debianPackage})`);
  }
}

async function startServer(dir: string, extra: string[]): Promise<RedisNode> {
  await requireTool('redis-cli', 'redis-tools');
  const port = await freePort();
  const child = await startRedisProcess('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--dbfilename', `dump-${port}.rdb`, ...extra.map((arg) => arg.replaceAll('{port}', String(port))),
  ], port);
  return { port, child };
}

/** Three primaries and three replicas (`redis-cli --cluster create --cluster-replicas 1`). */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'bff-cluster-'));
  const nodes: RedisNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => stopProcess(node.child, STOP_GRACE_MS)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      // The bus port defaults to port + 10000, which may be taken or past 65535: pick a free one.
      const busPort = await freePort();
      nodes.push(
        await startServer(dir, [
          '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-{port}.conf`, '--cluster-port', String(busPort),
          '--cluster-node-timeout', '5000',
        ]),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 60_000,
    });
    await waitFor('cluster_state:ok on every node', async () => {
      for (const node of nodes) {
        const info = String(await command(node.port, 'CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok') || !/cluster_known_nodes:6\b/.test(info)) return undefined;
      }
      return true;
    });
    const roles = await Promise.all(nodes.map(async (node) => ((await command(node.port, 'ROLE')) as [string])[0]));
    // A replica that has not synced yet would refuse to take over its primary's slots.
    await waitFor('every replica in sync with its primary', async () => {
      for (const [i, node] of nodes.entries()) {
        if (roles[i] === 'slave' && !String(await command(node.port, 'INFO', 'replication')).includes('master_link_status:up')) return undefined;
      }
      return true;
    }, 30_000);
    return {
      primaries: nodes.filter((_, i) => roles[i] === 'master'),
      replicas: nodes.filter((_, i) => roles[i] === 'slave'),
      seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One primary, one replica, three sentinels (quorum 2) watching them as `name`. */
export async function startRedisSentinelSet(name = 'bffprimary'): Promise<RedisSentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'bff-sentinel-'));
  const nodes: RedisNode[] = [];
  const stop = async () => {
    // Sentinels first, so they do not fail over while the data nodes go down.
    await Promise.all(nodes.slice(2).map((node) => stopProcess(node.child, STOP_GRACE_MS)));
    await Promise.all(nodes.slice(0, 2).map((node) => stopProcess(node.child, STOP_GRACE_MS)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const primary = await startServer(dir, []);
    nodes.push(primary);
    const replica = await startServer(dir, ['--replicaof', '127.0.0.1', String(primary.port)]);
    nodes.push(replica);
    await waitFor('the replica in sync', async () =>
      String(await command(replica.port, 'INFO', 'replication')).includes('master_link_status:up') ? true : undefined,
    );
    const [sentinelBin, sentinelArgs] = sentinelCommand();
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${name} 2000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      nodes.push({ port, child: await startRedisProcess(sentinelBin, [file, ...sentinelArgs], port) });
    }
    const sentinels = nodes.slice(2);
    // A sentinel learns of replicas and of its peers from INFO and hello messages (every few seconds):
    // a failover asked for before then finds no replica to promote.
    await waitFor(
      'every sentinel to know the replica and its two peers',
      async () => {
        for (const sentinel of sentinels) {
          const replicas = (await command(sentinel.port, 'SENTINEL', 'REPLICAS', name)) as string[][];
          const peers = (await command(sentinel.port, 'SENTINEL', 'SENTINELS', name)) as string[][];
          const healthy = replicas.some((fields) => fields.includes(String(replica.port)) && fields[fields.indexOf('flags') + 1] === 'slave');
          if (!healthy || peers.length < 2) return undefined;
        }
        return true;
      },
      30_000,
    );
    const set: RedisSentinelSet = {
      name,
      primary,
      replica,
      sentinels,
      seeds: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      async currentPrimary() {
        const [, port] = (await command(sentinels[0]!.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
        return Number(port);
      },
      stop,
    };
    return set;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `SENTINEL FAILOVER` (no agreement needed), resolved once the sentinels name the other node as primary. */
export async function failover(set: RedisSentinelSet): Promise<{ newPrimary: number }> {
  const before = await set.currentPrimary();
  await command(set.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', set.name);
  const newPrimary = await waitFor('the sentinels to name a new primary', async () => {
    const now = await set.currentPrimary();
    return now !== before ? now : undefined;
  });
  // ...and the promoted node to accept writes.
  await waitFor('the new primary to take writes', async () => (((await command(newPrimary, 'ROLE')) as [string])[0] === 'master' ? true : undefined));
  return { newPrimary };
}

export { command as redisCommand };
