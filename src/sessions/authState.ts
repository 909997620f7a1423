import type { Revocation } from './revocation.js';
import type { SessionUser } from './sessionUser.js';
import type { TokenSet, TokenTimes } from './tokenSet.js';

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

declare module 'express-session' {
  interface SessionData {
    auth: AuthState;
    /** Set only on the stand-in a tombstone produces; such a session is never written back. */
    revoked: Revocation;
  }
}
