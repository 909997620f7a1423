import type { AuthState } from './authState.js';

/** Who signed in, as the ID token says: (issuer, sub) is the identity, the rest is profile. */
export interface ExternalIdentity {
  issuer: string;
  sub: string;
  username: string;
  name: string;
  email: string | null;
}

/** The identity of a signed-in session. */
export function identityOf(auth: AuthState): ExternalIdentity {
  return {
    issuer: auth.issuer,
    sub: auth.sub,
    username: auth.user.username,
    name: auth.user.name,
    email: auth.user.email,
  };
}
