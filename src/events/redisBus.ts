import type { Redis } from 'ioredis';
import type { RedisConnection } from '../storage/redisClient.js';
import { unavailable } from '../http/httpError.js';
import type { Logger } from '../logger.js';
import type { AppEvent, EventBus } from './eventBus.js';
import { LocalFanout } from './localFanout.js';

/**
 * Redis pub/sub: one channel per topic, subscribed on this replica's dedicated subscriber connection
 * only while a local listener wants it, so a replica receives messages for the sessions and users
 * whose streams it holds (plus the broadcast channel), not for everyone. ioredis re-subscribes all
 * channels after a reconnect.
 *
 * Topologies (scale): the connections may be a Sentinel-managed primary or a Redis Cluster. On a
 * Cluster this stays classic pub/sub, not sharded (SSUBSCRIBE): a PUBLISH sent to any node reaches
 * subscribers on every node over the cluster bus, so a replica hears every revocation whichever node
 * owns the channel and whichever node its one subscriber connection landed on (README, "Redis topologies").
 */
export function createRedisBus(publisher: RedisConnection, subscriber: Redis, prefix: string, log: Logger): EventBus {
  const fanout = new LocalFanout();
  const channelPrefix = `${prefix}ev:`;
  const onError = (err: unknown) => log.error({ err }, 'event listener failed');
  // A topic's SUBSCRIBE in flight: later listeners of the same topic wait for it too, so nobody
  // returns from subscribe() before Redis would deliver to them.
  const pending = new Map<string, Promise<unknown>>();

  subscriber.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(channelPrefix)) return;
    let event: AppEvent;
    try {
      event = JSON.parse(message) as AppEvent;
    } catch {
      log.warn({ channel }, 'ignored a malformed bus message');
      return;
    }
    fanout.deliver(channel.slice(channelPrefix.length), event, onError);
  });

  return {
    async publish(topic, event) {
      try {
        await publisher.publish(channelPrefix + topic, JSON.stringify(event));
      } catch (err) {
        throw unavailable('Redis', err);
      }
    },
    async subscribe(topic, listener) {
      if (fanout.add(topic, listener)) {
        const subscribed = subscriber.subscribe(channelPrefix + topic);
        pending.set(topic, subscribed);
        void subscribed.then(
          () => pending.get(topic) === subscribed && pending.delete(topic),
          () => pending.get(topic) === subscribed && pending.delete(topic),
        );
      }
      try {
        await pending.get(topic);
      } catch (err) {
        fanout.remove(topic, listener);
        throw unavailable('Redis', err);
      }
      return async () => {
        if (!fanout.remove(topic, listener)) return;
        // Best effort: after a failed UNSUBSCRIBE a message for this topic finds no listener and is dropped.
        await subscriber.unsubscribe(channelPrefix + topic).catch(() => undefined);
      };
    },
    async ping() {
      if (subscriber.status !== 'ready') throw unavailable('Redis (subscriber)');
    },
    async close() {
      subscriber.disconnect();
    },
  };
}
