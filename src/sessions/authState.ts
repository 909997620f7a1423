/** The signed-in user as the API shows it (`GET /api/user`). `id` is the provider's `sub`. */
export interface SessionUser {
  id: string;
  username: string;
  name: string;
  email: string | null;
  roles: string[];
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string;
  /** Access-token expiry, epoch milliseconds. */
  expiresAt: number;
}

/** What a signed-in session holds server-side (inside express-session's data, under `auth`). */
export interface AuthState {
  issuer: string;
  sub: string;
  /** The provider's session id (`sid` claim of the ID token), when it sends one. */
  providerSid: string | undefined;
  user: SessionUser;
  tokens: TokenSet;
  loginTime: string;
  /** Absolute lifetime end, epoch milliseconds, whatever the activity. */
  absoluteExpiresAt: number;
}

export type RevocationReason = 'backchannel_logout' | 'logout' | 'revoked' | 'expired' | 'provider_session_ended';

export interface Revocation {
  reason: RevocationReason;
  at: string;
}

/**
 * A request's session as resolved by the session guard (`res.locals.session`):
 * live, revoked (a tombstone answered for the cookie), or none.
 */
export type RequestSession =
  | { state: 'live'; sid: string; handle: string; auth: AuthState }
  | { state: 'revoked'; revocation: Revocation }
  | { state: 'none' };

declare module 'express-session' {
  interface SessionData {
    auth: AuthState;
    /** Set only on the stand-in a tombstone produces; such a session is never written back. */
    revoked: Revocation;
  }
}
