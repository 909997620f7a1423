import type { RevokedSession } from '../sessions/revokeSessions.js';

/** Why a session ended, as the audit trail tells it (finer than the SSE `reason`: who asked). */
export const auditCauses = ['backchannel_logout', 'logout', 'another_device', 'moderator', 'provider_session_ended', 'expired'] as const;
export type AuditCause = (typeof auditCauses)[number];

/**
 * One sign-out. Never a token, cookie value or session id: the session appears only as its public
 * handle (the `sessionId` of `/api/sessions`), users as issuer + subject and display name.
 */
export interface AuditEntry {
  at: string;
  cause: AuditCause;
  user: { issuer: string; sub: string; name: string };
  sessionHandle: string;
  actor: { sub: string; name: string } | null;
  replica: string;
}

/** `revoked` (DELETE /api/sessions/:id) is another device when you end your own, a moderator's act otherwise. */
export function auditEntryOf(revoked: RevokedSession, replica: string): AuditEntry {
  const { owner, actor } = revoked;
  const cause: AuditCause =
    revoked.reason === 'revoked'
      ? actor && (actor.issuer !== owner.issuer || actor.sub !== owner.sub)
        ? 'moderator'
        : 'another_device'
      : revoked.reason;
  return {
    at: revoked.at,
    cause,
    user: { issuer: owner.issuer, sub: owner.sub, name: owner.name },
    sessionHandle: revoked.sessionHandle,
    actor: actor ? { sub: actor.sub, name: actor.name } : null,
    replica,
  };
}
