export interface SseMessage {
  event: string | undefined;
  id: string | undefined;
  data: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  messages: SseMessage[];
  comments: string[];
  /** Values of `retry:` lines. */
  retries: number[];
  /** Resolves with the first message (already received or coming) that matches, or rejects after `timeoutMs`. */
  next(match: (message: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** A minimal EventSource over fetch that keeps every frame, for asserting on the wire format. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((wake) => wake());

  let endStream!: () => void;
  const ended = new Promise<void>((resolve) => (endStream = resolve));
  if (!response.ok || !response.body) {
    endStream();
  } else {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let boundary: number;
          while ((boundary = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            const message: SseMessage = { event: undefined, id: undefined, data: '' };
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
              else if (line.startsWith('event:')) message.event = line.slice(6).trim();
              else if (line.startsWith('id:')) message.id = line.slice(3).trim();
              else if (line.startsWith('retry:')) retries.push(Number(line.slice(6).trim()));
            }
            if (data.length > 0) {
              message.data = data.join('\n');
              messages.push(message);
            }
            notify();
          }
        }
      } catch {
        // Aborted by close(), or the connection dropped: either way the stream is over.
      }
      endStream();
      notify();
    })();
  }

  return {
    status: response.status,
    headers: response.headers,
    messages,
    comments,
    retries,
    ended,
    next(match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching SSE message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}
