import type { TokenEndpointResponse } from 'openid-client';

/** The provider's tokens of one session, kept server-side only. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string;
  /** Access-token expiry, epoch milliseconds. */
  expiresAt: number;
}

/** Providers that omit `expires_in` get this access-token lifetime assumed. */
const DEFAULT_EXPIRES_IN_SECONDS = 300;

/** Our stored form of a token response; a refresh response may omit what did not change. */
export function toTokenSet(response: TokenEndpointResponse, previous?: TokenSet): TokenSet {
  const idToken = response.id_token ?? previous?.idToken;
  if (!idToken) throw new Error('the token response holds no id_token');
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
    idToken,
    expiresAt: Date.now() + (response.expires_in ?? DEFAULT_EXPIRES_IN_SECONDS) * 1000,
  };
}
