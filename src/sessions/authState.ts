/** The signed-in user as the API shows it (`GET /api/user`). `id` is the provider's `sub`. */
export interface SessionUser {
  id: string;
  username: string;
  name: string;
  email: string | null;
  roles: string[];
}

/** What the session record keeps of its tokens: what every request needs to know, not the tokens. */
export interface TokenTimes {
  /** Access-token expiry, epoch milliseconds. */
  expiresAt: number;
  /**
   * `iat` of the ID token held, epoch seconds by the provider's clock (the issuer-wide not-before
   * is compared with it). Absent in records written before the tokens had a key of their own.
   */
  issuedAt?: number;
}

/** The tokens themselves: kept beside the record, under a key of their own (SessionStore). */
export interface TokenSet extends TokenTimes {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string;
}

/**
 * What a signed-in session holds server-side (inside express-session's data, under `auth`). The
 * record carries only the tokens' times; writing a full TokenSet there stores the tokens beside it
 * (`SessionStore.write`), and `SessionStore.readTokens` reads them back.
 */
export interface AuthState {
  issuer: string;
  sub: string;
  /** The provider's session id (`sid` claim of the ID token), when it sends one. */
  providerSid: string | undefined;
  user: SessionUser;
  tokens: TokenTimes | TokenSet;
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
