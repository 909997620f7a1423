import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the React app, served from FRONTEND_URL's origin by a loopback server. Its page holds
 * `new EventSource(replicaB + '/api/events', { withCredentials: true })` exactly as existing clients do,
 * and records every open, message, named event and error with the browser's clock in `window.__events`,
 * so assertions are made on what the page itself received.
 */
export interface PageEvent {
  kind: 'open' | 'message' | 'session_invalidated' | 'error';
  data: string;
  at: number;
}

function page(sseBase: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>board e2e page</title></head>
<body><h1>board e2e page</h1><pre id="log"></pre>
<script>
  window.__events = [];
  function record(kind, data) {
    window.__events.push({ kind, data, at: Date.now() });
    document.getElementById('log').textContent += kind + ' ' + data + '\\n';
  }
  // ?sse=0 leaves the stream closed (pages shown after logout).
  if (new URLSearchParams(location.search).get('sse') !== '0') {
    const es = new EventSource(${JSON.stringify(sseBase)} + '/api/events', { withCredentials: true });
    es.onopen = () => record('open', '');
    es.onmessage = (event) => record('message', event.data);
    es.addEventListener('session_invalidated', (event) => record('session_invalidated', event.data));
    es.onerror = () => record('error', String(es.readyState));
    window.__eventSource = es;
  }
</script></body></html>`;
}

export interface FrontendServer {
  url: string;
  close(): Promise<void>;
}

export async function startFrontend(frontendUrl: string, sseBase: string): Promise<FrontendServer> {
  const port = Number(new URL(frontendUrl).port);
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/favicon')) {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page(sseBase));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: frontendUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
