import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router, type RequestHandler } from 'express';
import type { LiveSessionLookup } from '../sessions/liveSession.js';
import { detachSession, liveSessionOf } from '../sessions/requestSession.js';
import type { SseHub } from './sseHub.js';

export interface EventStreamRouteDeps {
  /** The session as express-session and the session guard would find it (src/sessions/liveSession.ts). */
  liveSession: LiveSessionLookup;
  hub: SseHub;
  /** Origins the CORS policy of the other `/api` routes allows, with credentials. */
  allowedOrigins: ReadonlySet<string>;
  /** The id the access log gives this request, sent back as `X-Request-Id` (the HTTP layer's). */
  requestIdOf: (req: IncomingMessage) => string;
}

/** Serves `(req, res)` if it is a stream it can open; calls `fallback` (the Express app) otherwise. */
export type EventStreamRoute = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => void;

/**
 * `GET /api/events` for a plainly live session, served on Node's own request and response objects,
 * before Express. Why: a stream lives for hours, and everything a request picks up on its way through
 * Express stays with it — Express gives every request and response object a map of its own
 * (`setPrototypeOf`), express-session its wrappers and closures, the access log and metrics their
 * listeners. Measured at 2,000 streams: 6.6 KiB of heap per stream on this path, 12.7 KiB through
 * Express; a bare Node server holding the same responses, 4.9 KiB (`npm run bench:sse`).
 *
 * Only the common case is served here: a signed session cookie whose record the session guard (the
 * same decision as on every other route, refresh included) finds live. Everything else — no cookie,
 * a bad signature, a revoked or unknown session, Redis failing, the bus down — falls back to the
 * Express route, which answers it exactly as before (401 `session_revoked`, 503).
 * Nothing here writes the session: a stream neither renews nor deletes it.
 */
export function createEventStreamRoute(deps: EventStreamRouteDeps): EventStreamRoute {
  return (req, res, fallback) => {
    if (req.method !== 'GET' || !isEventsPath(req.url)) return fallback();
    // Only what the stream needs is taken from the session: the stream's own request and response
    // objects keep no session, no record and no extra fields.
    deps.liveSession(req, ({ session }) => {
      // What the `cors` middleware answers a simple GET, given to writeHead in one object: headers
      // set one by one (setHeader) would leave each stream a header dictionary for its life (measured
      // at 3,000 streams: 6.7 KiB of heap per stream this way, 7.4 KiB with the middleware).
      const origin = req.headers.origin;
      const headers: Record<string, string> = { 'X-Request-Id': deps.requestIdOf(req), Vary: 'Origin', 'Access-Control-Allow-Credentials': 'true' };
      if (origin !== undefined && deps.allowedOrigins.has(origin)) headers['Access-Control-Allow-Origin'] = origin;
      const { sessionId, sessionHandle, auth } = session;
      deps.hub.open(req, res, { sessionId, sessionHandle, issuer: auth.issuer, sub: auth.sub }, headers).catch(() => {
        // Thrown before answering (the bus is down): the Express route gives the 503.
        if (!res.headersSent) fallback();
        else res.destroy();
      });
    }, fallback);
  };
}

/**
 * `GET /api/events` through Express, behind CORS and the session layer: every case the fast path
 * above falls back on (401 `session_revoked` or `unauthenticated`, 503 from the bus), and any stream
 * it did not open. Mounted before the document security headers: a stream is never rendered, and
 * helmet's dozen headers, held by each of thousands of long-lived responses, cost ~3.5 KB apiece.
 * HEAD gets the stream's headers and no stream: Node sends nothing for a HEAD until the response
 * ends, so a stream opened for one would hold a subscription for a client that never reads.
 */
export function createEventStreamRouter(deps: { requireSession: RequestHandler; hub: SseHub }): Router {
  const router = Router();
  router.head('/api/events', deps.requireSession, (_req, res) => {
    res.status(200).type('text/event-stream').end();
  });
  router.get('/api/events', deps.requireSession, async (req, res) => {
    const { sessionId, sessionHandle, auth } = liveSessionOf(res);
    // A stream lives for hours: let go of the session record (tokens included) it no longer needs.
    detachSession(req, res);
    await deps.hub.open(req, res, { sessionId, sessionHandle, issuer: auth.issuer, sub: auth.sub });
  });
  return router;
}

function isEventsPath(url: string | undefined): boolean {
  return url === '/api/events' || url?.startsWith('/api/events?') === true;
}

