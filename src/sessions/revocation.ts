export type RevocationReason = 'backchannel_logout' | 'logout' | 'revoked' | 'expired' | 'provider_session_ended';

/** Why and when a session ended (what its tombstone holds). */
export interface Revocation {
  reason: RevocationReason;
  /** ISO 8601 time of the revocation. */
  at: string;
}
