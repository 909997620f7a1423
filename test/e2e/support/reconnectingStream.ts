/**
 * What a browser's EventSource does with `GET /api/events`, over fetch, with the counts a rolling
 * restart is judged by: a stream the server ends is reopened after the last `retry:` hint; a network
 * error on (re)connect is retried the same way; an answer other than 200 stops it for good, as it
 * stops an EventSource (`fatal`).
 */
export class ReconnectingStream {
  /** Successful opens (200 and the unnamed `connected` message). */
  opens = 0;
  /** Streams the server ended while we wanted them open. */
  serverEnds = 0;
  /** Reconnects that failed at the network level (then retried, as EventSource does). */
  networkErrors = 0;
  /** Why the stream stopped for good: a non-200 answer. */
  fatal: string | undefined;
  connected = false;
  private retryMs = 1000;
  private stopped = false;
  private controller: AbortController | undefined;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly url: string,
    private readonly cookie: string,
  ) {}

  /** Resolves once the first `connected` message arrived. */
  async start(timeoutMs = 15_000): Promise<void> {
    void this.run();
    await this.waitConnected(timeoutMs);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stream not connected within ${timeoutMs} ms (fatal: ${this.fatal ?? 'no'})`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.fatal) {
      this.controller = new AbortController();
      let response: Response;
      try {
        response = await fetch(this.url, { headers: { accept: 'text/event-stream', cookie: this.cookie }, signal: this.controller.signal });
      } catch {
        if (this.stopped) return;
        this.networkErrors += 1;
        await sleep(this.retryMs);
        continue;
      }
      if (response.status !== 200 || !response.body) {
        this.fatal = `${response.status} ${(await response.text()).slice(0, 200)}`;
        return;
      }
      await this.read(response.body);
      this.connected = false;
      if (this.stopped) return;
      this.serverEnds += 1;
      await sleep(this.retryMs);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('retry:')) this.retryMs = Number(line.slice(6).trim());
            if (line === 'data: connected') {
              this.connected = true;
              this.opens += 1;
              this.waiters.splice(0).forEach((wake) => wake());
            }
          }
        }
      }
    } catch {
      // The connection dropped (or close() aborted it): the stream is over either way.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
