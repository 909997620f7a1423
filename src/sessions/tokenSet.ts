import type { TokenEndpointResponse, TokenEndpointResponseHelpers } from 'openid-client';
import { decodeJwt } from 'jose';

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

/** The provider's tokens of one session, kept server-side only: beside the record, under a key of their own (SessionStore). */
export interface TokenSet extends TokenTimes {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string;
}

/** Providers that omit `expires_in` get this access-token lifetime assumed. */
const DEFAULT_EXPIRES_IN_SECONDS = 300;

/** Our stored form of a token response; a refresh response may omit what did not change. */
export function toTokenSet(response: TokenEndpointResponse & Pick<TokenEndpointResponseHelpers, 'claims'>, previous?: TokenSet): TokenSet {
  const idToken = response.id_token ?? previous?.idToken;
  if (!idToken) throw new Error('the token response holds no id_token');
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
    idToken,
    expiresAt: Date.now() + (response.expires_in ?? DEFAULT_EXPIRES_IN_SECONDS) * 1000,
    // The ID token's claims as openid-client validated them; a refresh without a new ID token keeps the old one's.
    issuedAt: response.claims()?.iat ?? previous?.issuedAt ?? issuedAtOf(idToken),
  };
}

/**
 * The `iat` of an ID token we hold, epoch seconds, or undefined if it has none: read without a
 * signature check, which is sound only for tokens openid-client validated when we received them
 * (OpenID Connect Core §3.1.3.7), never for a token from a request.
 */
export function issuedAtOf(idToken: string): number | undefined {
  try {
    const { iat } = decodeJwt(idToken);
    return typeof iat === 'number' ? iat : undefined;
  } catch {
    return undefined;
  }
}

/** True for a full token set; false for the times a record keeps. */
export function isTokenSet(tokens: TokenTimes | TokenSet): tokens is TokenSet {
  return typeof (tokens as Partial<TokenSet>).accessToken === 'string';
}
