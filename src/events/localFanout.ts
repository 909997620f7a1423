import type { AppEvent, Listener } from './eventBus.js';

/**
 * This process's listeners per topic; both bus implementations deliver through it. Most topics (a
 * session's, a user's) have one listener: it is stored as is, and a Set only made for a second one.
 */
export class LocalFanout {
  readonly #listeners = new Map<string, Listener | Set<Listener>>();
  #count = 0;

  add(topic: string, listener: Listener): void {
    const current = this.#listeners.get(topic);
    if (current === undefined) this.#listeners.set(topic, listener);
    else if (typeof current === 'function') {
      if (current === listener) return;
      this.#listeners.set(topic, new Set([current, listener]));
    } else {
      if (current.has(listener)) return;
      current.add(listener);
    }
    this.#count++;
  }

  remove(topic: string, listener: Listener): void {
    const current = this.#listeners.get(topic);
    if (current === listener) this.#listeners.delete(topic);
    else if (typeof current !== 'object' || !current.delete(listener)) return;
    else if (current.size === 1) this.#listeners.set(topic, current.values().next().value!);
    this.#count--;
  }

  has(topic: string): boolean {
    return this.#listeners.has(topic);
  }

  deliver(topic: string, event: AppEvent, onError: (err: unknown) => void): void {
    const current = this.#listeners.get(topic);
    if (current === undefined) return;
    // A copy: a listener may end its stream and unsubscribe while we iterate.
    for (const listener of typeof current === 'function' ? [current] : [...current]) {
      try {
        listener(event);
      } catch (err) {
        onError(err);
      }
    }
  }

  /** Listeners over all topics. */
  get count(): number {
    return this.#count;
  }
}
