import { afterEach, describe, expect, it } from 'vitest';
import type { EventStream } from '../src/eventStream.js';
import { createSharedEvents, type LocksLike, type SharedEvents } from '../src/sharedEvents.js';
import type { AnyBoardEvent, ConnectionState } from '../src/types.js';

/** Web Locks semantics for one exclusive lock name: a FIFO queue, released when the callback's promise settles. */
class QueueLocks implements LocksLike {
  private held = false;
  private readonly queue: (() => void)[] = [];
  request(_name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const run = () => {
        this.held = true;
        callback().then(resolve, reject).finally(() => {
          this.held = false;
          this.queue.shift()?.();
        });
      };
      options.signal?.addEventListener('abort', () => {
        const at = this.queue.indexOf(run);
        if (at >= 0) {
          this.queue.splice(at, 1);
          reject(new DOMException('aborted', 'AbortError'));
        }
      });
      if (this.held) this.queue.push(run);
      else run();
    });
  }
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

interface Tab {
  shared: SharedEvents;
  events: AnyBoardEvent[];
  states: ConnectionState[];
}

describe('createSharedEvents', () => {
  const tabs: Tab[] = [];
  const streams: { sink: { onEvent(e: AnyBoardEvent): void; onState(s: ConnectionState): void }; lastEventId: string | undefined; closed: boolean }[] = [];
  const name = `test-${Math.random()}`;
  const locks = new QueueLocks();

  const openTab = (): Tab => {
    const tab: Tab = { events: [], states: [], shared: undefined as unknown as SharedEvents };
    tab.shared = createSharedEvents({
      name,
      locks,
      createChannel: (n) => new BroadcastChannel(n) as unknown as import('../src/sharedEvents.js').ChannelLike,
      start(sink, lastEventId): EventStream {
        const stream = { sink, lastEventId, closed: false };
        streams.push(stream);
        sink.onState({ status: 'connecting' });
        return { close: () => void (stream.closed = true) };
      },
    });
    tab.shared.subscribe((e) => tab.events.push(e));
    tab.shared.onState((s) => tab.states.push(s));
    tabs.push(tab);
    return tab;
  };

  afterEach(() => {
    for (const tab of tabs.splice(0)) tab.shared.close();
    streams.length = 0;
  });

  it('eight tabs share one stream; every tab gets each event once and the same state', async () => {
    const all = Array.from({ length: 8 }, openTab);
    await settle();
    expect(streams).toHaveLength(1);
    expect(all.filter((t) => t.shared.isLeader)).toHaveLength(1);
    streams[0]!.sink.onState({ status: 'live' });
    streams[0]!.sink.onEvent({ type: 'comment_created', id: 'e1' } as AnyBoardEvent);
    await settle();
    const typed: string[] = [];
    all[3]!.shared.on('comment_created', (event) => typed.push(event.id));
    all[3]!.shared.on('board_changed', (event) => typed.push(`wrong ${event.id}`));
    streams[0]!.sink.onEvent({ type: 'comment_created', id: 'e2' } as AnyBoardEvent);
    await settle();
    expect(typed).toEqual(['e2']);
    for (const tab of all) {
      expect(tab.events.map((e) => e.id)).toEqual(['e1', 'e2']);
      expect(tab.shared.state).toEqual({ status: 'live' });
    }
  });

  it('when the leader tab closes, then the next tab opens the stream from the last event id', async () => {
    const [first, second] = [openTab(), openTab()];
    await settle();
    streams[0]!.sink.onEvent({ type: 'board_changed', id: 'e7' } as AnyBoardEvent);
    await settle();
    first!.shared.close();
    await settle();
    expect(streams[0]!.closed).toBe(true);
    expect(streams).toHaveLength(2);
    expect(second!.shared.isLeader).toBe(true);
    expect(streams[1]!.lastEventId).toBe('e7');
    expect(second!.states.some((s) => s.status === 'ended')).toBe(false);
  });

  it('a tab opened later learns the current state from the leader', async () => {
    openTab();
    await settle();
    streams[0]!.sink.onState({ status: 'live' });
    const late = openTab();
    await settle();
    expect(late.shared.state).toEqual({ status: 'live' });
  });

  it('session_invalidated reaches every tab as the final state, and no tab starts another stream', async () => {
    const [first, second] = [openTab(), openTab()];
    await settle();
    streams[0]!.sink.onState({ status: 'ended', cause: 'invalidated', reason: 'backchannel_logout' });
    await settle();
    expect(second!.shared.state).toEqual({ status: 'ended', cause: 'invalidated', reason: 'backchannel_logout' });
    first!.shared.close();
    await settle();
    expect(streams).toHaveLength(1);
  });

  it('the tab that logs out tells the others why, and the tab taking over opens no stream', async () => {
    const [first, second, third] = [openTab(), openTab(), openTab()];
    await settle();
    first!.shared.closeEnded('logout');
    await settle();
    for (const tab of [second!, third!]) expect(tab.shared.state).toEqual({ status: 'ended', cause: 'invalidated', reason: 'logout' });
    expect(streams.filter((s) => !s.closed)).toHaveLength(0);
  });

  it('without Web Locks each tab runs its own stream', () => {
    const shared = createSharedEvents({
      name,
      locks: undefined,
      createChannel: undefined,
      start(sink) {
        streams.push({ sink, lastEventId: undefined, closed: false });
        return { close() {} };
      },
    });
    expect(shared.isLeader).toBe(true);
    expect(streams).toHaveLength(1);
    shared.close();
  });
});
