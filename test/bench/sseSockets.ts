import { connect, type Socket } from 'node:net';

export interface RawStream {
  socket: Socket;
  connected: Promise<void>;
  /** Resolves with performance.now() when the session_invalidated frame arrives. */
  invalidated: Promise<number>;
}

/**
 * SSE over a bare socket: thousands of them cost the benchmark little, and frames are seen the
 * moment the bytes arrive. `extraHeaders`: more request header lines, each ending in CRLF.
 */
export function openRawStream(url: string, cookie: string, extraHeaders = ''): RawStream {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.setNoDelay(true);
  let buffer = '';
  let onConnected!: () => void;
  let onInvalidated!: (at: number) => void;
  let fail!: (err: Error) => void;
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    fail = reject;
  });
  const invalidated = new Promise<number>((resolve) => (onInvalidated = resolve));
  let seenConnected = false;
  socket.on('connect', () => {
    socket.write(`GET /api/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nCookie: ${cookie}\r\n${extraHeaders}\r\n`);
  });
  socket.on('data', (chunk: Buffer) => {
    const at = performance.now();
    buffer += chunk.toString('latin1');
    if (!seenConnected) {
      if (buffer.startsWith('HTTP/1.1 ') && !buffer.startsWith('HTTP/1.1 200')) fail(new Error(buffer.split('\r\n')[0]));
      if (buffer.includes('data: connected\n\n')) {
        seenConnected = true;
        onConnected();
      }
    }
    if (buffer.includes('event: session_invalidated')) onInvalidated(at);
    // Keep only a tail: enough to find a marker split across two chunks.
    if (buffer.length > 4096) buffer = buffer.slice(-256);
  });
  socket.on('error', (err) => fail(err));
  return { socket, connected, invalidated };
}
