import { describeError, type Logger } from '../logger.js';
import type { EventBus } from './eventBus.js';
import { LocalFanout } from './localFanout.js';

/** In-process twin of the Redis bus: one replica only, never a gap. Delivery is asynchronous, as over Redis. */
export function createMemoryBus(log: Logger): EventBus {
  const fanout = new LocalFanout();
  const onError = (err: unknown) => log.error({ err: describeError(err) }, 'event listener failed');
  return {
    async publish(topic, event) {
      setImmediate(() => fanout.deliver(topic, event, onError));
    },
    subscribe: (topic, listener) => fanout.add(topic, listener),
    unsubscribe: (topic, listener) => fanout.remove(topic, listener),
    onGap() {},
    get listenerCount() {
      return fanout.count;
    },
    async ping() {},
    async close() {},
  };
}
