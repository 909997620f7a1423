import type { EventSourceLike } from '../src/eventStream.js';

/** A scripted EventSource: the unit under test is the stream logic, the server is played by the test. */
export class ScriptedEventSource implements EventSourceLike {
  static readonly all: ScriptedEventSource[] = [];
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>();
  constructor(readonly url: string, readonly init: { withCredentials: boolean }) {
    ScriptedEventSource.all.push(this);
  }
  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  emit(type: string, data: unknown, lastEventId = ''): void {
    const event = { data: JSON.stringify(data), lastEventId } as MessageEvent;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
  fail(): void {
    this.readyState = 0;
    this.onerror?.(new Event('error'));
  }
}

/** Timers run by hand, so backoff delays are observed instead of waited for. */
export class ManualTimers {
  pending: { fn: () => void; ms: number }[] = [];
  set = (fn: () => void, ms: number) => {
    const timer = { fn, ms };
    this.pending.push(timer);
    return timer;
  };
  clear = (timer: unknown) => {
    this.pending = this.pending.filter((t) => t !== timer);
  };
  runNext(): number {
    const timer = this.pending.shift();
    if (!timer) throw new Error('no timer pending');
    timer.fn();
    return timer.ms;
  }
}

export const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
