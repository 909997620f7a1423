import type { AuthState } from './authState.js';
import { issuedAtOf, isTokenSet } from './tokenSet.js';

/**
 * When the provider issued the session's current tokens, epoch seconds, by the provider's clock:
 * the `iat` of the ID token it holds (validated when it was received; renewed by each refresh),
 * kept in the record beside the access token's expiry (or read from the token itself in a record
 * that still holds its tokens), else its login time. Compared with a not-before as Keycloak does
 * (`iat < notBefore` is void).
 */
export function sessionIssuedAt(auth: Pick<AuthState, 'tokens' | 'loginTime'>): number {
  return (
    auth.tokens.issuedAt ??
    (isTokenSet(auth.tokens) ? issuedAtOf(auth.tokens.idToken) : undefined) ??
    Math.floor(Date.parse(auth.loginTime) / 1000)
  );
}
