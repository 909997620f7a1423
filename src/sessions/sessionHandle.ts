import { createHmac, createSecretKey } from 'node:crypto';

/**
 * The session handle, the one public name of a session (SSE topics, logs, audit entries; the JSON of
 * `/api/sessions` and `/api/audit` calls it `sessionId`): a keyed digest of the session id, the same
 * on every replica that shares SESSION_SECRET, from which the id cannot be recovered.
 */
export function createSessionHandle(secret: string): (sessionId: string) => string {
  const key = createSecretKey(Buffer.from(`session-handle:${secret}`)); // prepared once, not per call
  return (sessionId) => createHmac('sha256', key).update(sessionId).digest('base64url').slice(0, 24);
}
