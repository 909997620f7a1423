import type { AppEvent, Listener } from './eventBus.js';

/** This process's listeners per topic; both bus implementations deliver through it. */
export class LocalFanout {
  readonly #listeners = new Map<string, Set<Listener>>();

  /** Adds a listener; true when it is the topic's first (the caller subscribes upstream). */
  add(topic: string, listener: Listener): boolean {
    let set = this.#listeners.get(topic);
    const first = !set;
    if (!set) this.#listeners.set(topic, (set = new Set()));
    set.add(listener);
    return first;
  }

  /** Removes a listener; true when the topic has none left (the caller unsubscribes upstream). */
  remove(topic: string, listener: Listener): boolean {
    const set = this.#listeners.get(topic);
    if (!set?.delete(listener)) return false;
    if (set.size > 0) return false;
    this.#listeners.delete(topic);
    return true;
  }

  deliver(topic: string, event: AppEvent, onError: (err: unknown) => void): void {
    const set = this.#listeners.get(topic);
    if (!set) return;
    // A copy: a listener may end its stream and unsubscribe while we iterate.
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (err) {
        onError(err);
      }
    }
  }

  get topicCount(): number {
    return this.#listeners.size;
  }
}
