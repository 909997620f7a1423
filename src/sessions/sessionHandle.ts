import { hash } from 'node:crypto';

/**
 * The session handle, the one public name of a session (SSE topics, logs, audit entries; the JSON of
 * `/api/sessions` and `/api/audit` calls it `sessionId`): 24 base64url characters (144 bits) of a
 * SHA-256 digest of the session id. The id cannot be recovered from it: express-session's ids are 192
 * random bits, beyond both guessing and inverting. No secret goes in, so every replica derives the
 * same handle whatever its SESSION_SECRET list: keyed on the signing secret, replicas half-way
 * through a rotation (`old,new` beside `new,old`) published and listened on different topics, and a
 * revocation missed the other half's streams (test/events/secretRotation.test.ts).
 */
export function sessionHandleOf(sessionId: string): string {
  return hash('sha256', `session-handle:${sessionId}`, 'base64url').slice(0, 24);
}
