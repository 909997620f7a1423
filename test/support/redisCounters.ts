import { Redis } from 'ioredis';

export interface RedisCounters {
  /** Calls per command name so far, from INFO commandstats (the whole server: use a redis-server of your own). */
  commandCalls(): Promise<Record<string, number>>;
  /** INFO stats `total_reads_processed`: read events, i.e. client round trips when one client talks at a time. */
  readsProcessed(): Promise<number>;
  close(): void;
}

/** Reads a Redis server's own counters over a connection of its own. */
export function redisCounters(url: string): RedisCounters {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    async commandCalls() {
      const info = await admin.info('commandstats');
      const calls: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
      return calls;
    },
    async readsProcessed() {
      return Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))?.[1] ?? NaN);
    },
    close: () => admin.disconnect(),
  };
}

/** `after - before` per command, dropping zeros and the commands of the counting itself (INFO, and a connection's CLIENT SETNAME). */
export function callsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const d = calls - (before[name] ?? 0);
    if (d > 0 && name !== 'info' && !name.startsWith('client')) delta[name] = d;
  }
  return delta;
}
