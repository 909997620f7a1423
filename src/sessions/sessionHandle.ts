import { createHmac, createSecretKey } from 'node:crypto';

/**
 * The public name of a session (`/api/sessions`, SSE topics, logs): a keyed digest of the session id,
 * the same on every replica that shares SESSION_SECRET, from which the id cannot be recovered.
 */
export function createSessionHandle(secret: string): (sid: string) => string {
  const key = createSecretKey(Buffer.from(`session-handle:${secret}`)); // prepared once, not per call
  return (sid) => createHmac('sha256', key).update(sid).digest('base64url').slice(0, 24);
}
