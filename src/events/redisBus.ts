import type { Redis } from 'ioredis';
import type { RedisConnection } from '../storage/redisClient.js';
import { unavailable } from '../errors.js';
import { redisKeys } from '../storage/keys.js';
import { describeError, type Logger } from '../logger.js';
import type { AppEvent, EventBus } from './eventBus.js';
import { LocalFanout } from './localFanout.js';

/** A message on the event channel: `<topic>\n<event JSON>` (also published from a script: src/sessions/tombstoneThenTell.ts). */
export function busMessage(topic: string, event: AppEvent): string {
  return `${topic}\n${JSON.stringify(event)}`;
}

/**
 * Redis pub/sub over one shared channel, `<prefix>ev:all`: a message is `<topic>\n<event JSON>`, and
 * each replica hands it to its own listeners of that topic (the JSON is parsed only where a topic
 * has a listener). Compared with one channel per topic subscribed per stream (this module's earlier
 * design), opening a stream costs no SUBSCRIBE round trip and no per-stream state in ioredis or
 * Redis (~470 bytes of Redis memory and ~1 KiB of this process's heap per stream at 5,000 streams;
 * `npm run bench:sse -- baseline=…` reproduces it), and a stream cannot end half-subscribed. The
 * price: every replica receives every event, so the bus suits what it carries — revocations and
 * board notifications, tens per second, not bulk data. Plain PUBLISH reaches every node of a Redis
 * Cluster, so the one channel works there too.
 *
 * Pub/sub is lossy across a reconnect: ioredis re-subscribes the channel by itself, and once our own
 * SUBSCRIBE (queued after ioredis's on the same connection) is answered, delivery has resumed and
 * the `onGap` callbacks run so that listeners re-read what they may have missed.
 *
 * Topologies: the connections may be a Sentinel-managed primary or a Redis Cluster. On a Cluster
 * this stays classic pub/sub, not sharded (SSUBSCRIBE): a PUBLISH sent to any node reaches
 * subscribers on every node over the cluster bus, so a replica hears every revocation whichever node
 * owns the channel and whichever node its one subscriber connection landed on (README, "Redis topologies").
 */
export function createRedisBus(publisher: RedisConnection, subscriber: Redis, prefix: string, log: Logger): EventBus {
  const fanout = new LocalFanout();
  const channel = redisKeys(prefix).eventChannel;
  const onError = (err: unknown) => log.error({ err: describeError(err) }, 'event listener failed');
  const gapCallbacks: Array<() => void> = [];
  let delivering = false;
  let subscribedBefore = false;
  let closed = false;

  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    const newline = message.indexOf('\n');
    const topic = message.slice(0, newline);
    // Every replica gets every message: skip the parse for topics nobody here listens to.
    if (newline < 0 || !fanout.has(topic)) return;
    let event: AppEvent;
    try {
      event = JSON.parse(message.slice(newline + 1)) as AppEvent;
    } catch {
      log.warn({ topic }, 'ignored a malformed bus message');
      return;
    }
    fanout.deliver(topic, event, onError);
  });
  subscriber.on('close', () => {
    delivering = false;
  });
  const resume = async () => {
    try {
      await subscriber.subscribe(channel);
    } catch (err) {
      log.warn({ err: describeError(err) }, 'could not subscribe to the event channel');
      // A dropped connection tries again on its next 'ready'; a live one (the SUBSCRIBE timed out) here.
      if (!closed && subscriber.status === 'ready') setTimeout(() => void resume(), 1000).unref();
      return;
    }
    if (closed || subscriber.status !== 'ready') return;
    delivering = true;
    if (!subscribedBefore) {
      subscribedBefore = true;
      return;
    }
    log.info('event channel subscribed again after a reconnect; re-checking open streams');
    for (const callback of gapCallbacks) {
      try {
        callback();
      } catch (err) {
        onError(err);
      }
    }
  };
  subscriber.on('ready', () => void resume());
  if (subscriber.status === 'ready') void resume();

  return {
    async publish(topic, event) {
      try {
        await publisher.publish(channel, busMessage(topic, event));
      } catch (err) {
        throw unavailable('Redis', err);
      }
    },
    subscribe(topic, listener) {
      if (!delivering) throw unavailable('Redis (event channel)');
      fanout.add(topic, listener);
    },
    unsubscribe: (topic, listener) => fanout.remove(topic, listener),
    onGap(callback) {
      gapCallbacks.push(callback);
    },
    get listenerCount() {
      return fanout.count;
    },
    async ping() {
      if (!delivering) throw unavailable('Redis (event channel)');
    },
    async close() {
      closed = true;
      delivering = false;
      subscriber.disconnect();
    },
  };
}
