import { createHmac } from 'node:crypto';

/**
 * The public name of a session (`/api/sessions`, SSE topics, logs): a keyed digest of the session id,
 * the same on every replica that shares SESSION_SECRET, from which the id cannot be recovered.
 */
export function createSessionHandle(secret: string): (sessionId: string) => string {
  return (sessionId) => createHmac('sha256', `session-handle:${secret}`).update(sessionId).digest('base64url').slice(0, 24);
}
