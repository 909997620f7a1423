import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * `Cache-Control: no-store` on the answer: for everything that depends on who asks (a session, the
 * sign-in flow, a per-viewer body) or on the moment (health, logout endpoints, errors). Express
 * middleware written on Node's own objects, so a route served before Express calls it too.
 */
export function noStore(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}
