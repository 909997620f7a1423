import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Date.now() when the whole body had arrived. */
  at: number;
}

/**
 * An event stream read over node:http with a keep-alive agent of its own, so a test sees what the
 * connection does after the stream ends (kept for reuse, or closed by the server).
 */
export interface RawStream {
  status: number;
  /** Everything received so far. */
  text(): string;
  /** Resolves with Date.now() when the server ends the stream. */
  ended: Promise<number>;
  /** Resolves with Date.now() when the connection closes, whoever closed it. */
  socketClosed: Promise<number>;
  close(): void;
}

export function openRawStream(url: string, cookie: string): Promise<RawStream> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers: { cookie, accept: 'text/event-stream' } }, (response) => {
      let text = '';
      const socket = response.socket;
      const socketClosed = new Promise<number>((done) => socket.once('close', () => done(Date.now())));
      const ended = new Promise<number>((done) => {
        response.on('end', () => done(Date.now()));
        response.on('aborted', () => done(Date.now()));
      });
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', () => undefined);
      resolve({
        status: response.statusCode ?? 0,
        text: () => text,
        ended,
        socketClosed,
        close: () => {
          request.destroy();
          agent.destroy();
        },
      });
    });
    request.on('error', reject);
  });
}

/**
 * A request whose body is sent in two parts: `send()` writes the rest, so a test holds a request
 * in flight for as long as it likes.
 */
export function startSlowRequest(
  url: string,
  options: { method: string; headers: Record<string, string>; body: string },
): { send(): void; response: Promise<RawResponse> } {
  const head = options.body.slice(0, Math.floor(options.body.length / 2));
  const rest = options.body.slice(head.length);
  const request = http.request(url, {
    method: options.method,
    headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
    agent: new http.Agent({ keepAlive: true }),
  });
  const response = new Promise<RawResponse>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, at: Date.now() }));
    });
  });
  request.flushHeaders();
  request.write(head);
  return { send: () => void request.end(rest), response };
}

/** Sequential requests over one kept-alive connection: the statuses, and the errors (resets) seen. */
export function keepAliveClient(): {
  get(url: string, headers: Record<string, string>): Promise<{ status: number } | { error: string }>;
  /** How many TCP connections the client had to open so far. */
  readonly connections: number;
  close(): void;
} {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let connections = 0;
  const seen = new WeakSet<object>();
  return {
    get: (url, headers) =>
      new Promise((resolve) => {
        const request = http.get(url, { agent, headers }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
          response.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
        });
        request.on('socket', (socket) => {
          if (!seen.has(socket)) {
            seen.add(socket);
            connections++;
          }
        });
        request.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      }),
    get connections() {
      return connections;
    },
    close: () => agent.destroy(),
  };
}
