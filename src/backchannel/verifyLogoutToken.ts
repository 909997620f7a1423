import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { checkJwsHeader, decodeJwsHeader, describeJoseError, isCompactJws, keysUnavailable } from './jwsChecks.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The token broke a rule of Back-Channel Logout 1.0: answer 400. The message names the rule. */
export class InvalidLogoutToken extends Error {
  override name = 'InvalidLogoutToken';
}

/** The issuer's keys could not be fetched: not the token's fault, answer 503. */
export class SigningKeysUnavailable extends Error {
  override name = 'SigningKeysUnavailable';
}

export interface LogoutTokenPolicy {
  issuer: string;
  /** Our client id: `aud` must be it or contain it. */
  audience: string;
  /** The alg expected for ID tokens (RS256 unless configured otherwise). */
  algorithm: string;
  keys: JWTVerifyGetKey;
  clockToleranceSeconds: number;
  now?: () => Date;
  /** Told the `iat` of every token whose signature verified, before the time checks (clock-offset measurement). */
  onIssuedAt?: (issuedAtSeconds: number) => void;
}

export interface LogoutClaims {
  iss: string;
  sub: string | undefined;
  /** The provider's session id: the token's `sid` claim. */
  providerSid: string | undefined;
  jti: string;
  /** Issued at, epoch seconds by the provider's clock: when the provider session ended at the latest. */
  iat: number;
  /** Expiry, epoch seconds: the replay record lives until then. */
  exp: number;
}

// Keycloak 25+ sends `logout+jwt`, older Keycloak `JWT`, the conformance suite none (RFC 7515 §4.1.9:
// the "application/" prefix may be present and the value compares case-insensitively).
const ACCEPTED_TYP = new Set(['logout+jwt', 'jwt']);
const MAX_ID_LENGTH = 1024;

/**
 * Verifies a back-channel logout token completely: signature and alg, `typ`, iss, aud, iat, exp,
 * jti, events, nonce, sid/sub (OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6).
 * Replay of `jti` is the caller's business: it needs shared storage.
 */
export async function verifyLogoutToken(token: string, policy: LogoutTokenPolicy): Promise<LogoutClaims> {
  if (!isCompactJws(token)) {
    checkHeader(decodeJwsHeader(token, reject, 'logout_token'), policy.algorithm); // names the rule an unsigned token (alg none, no signature) breaks
    reject('the logout_token is not a JWS in compact serialization');
  }
  const now = policy.now?.() ?? new Date();
  let payload: JWTPayload;
  let header: Record<string, unknown>;
  try {
    ({ payload, protectedHeader: header } = await jwtVerify(token, policy.keys, {
      issuer: policy.issuer,
      audience: policy.audience,
      algorithms: [policy.algorithm],
      clockTolerance: policy.clockToleranceSeconds,
      currentDate: now,
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti'],
    }));
  } catch (err) {
    // The header is read again only on failure, to say which rule the token broke.
    checkHeader(decodeJwsHeader(token, reject, 'logout_token'), policy.algorithm);
    // jose checks the claims after the signature: an expired token still tells the provider's clock.
    if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired) reportIssuedAt(err.payload, policy);
    if (keysUnavailable(err)) {
      throw new SigningKeysUnavailable(`the issuer's signing keys could not be fetched: ${(err as Error).message}`);
    }
    reject(describeJoseError(err as errors.JOSEError));
  }
  checkHeader(header, policy.algorithm);
  reportIssuedAt(payload, policy);

  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (typeof payload.iat !== 'number' || payload.iat > nowSeconds + policy.clockToleranceSeconds) {
    reject('iat is in the future');
  }
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_ID_LENGTH) {
    reject('jti must be a non-empty string');
  }
  const events = payload.events;
  if (!isObject(events)) reject('events must be a JSON object');
  if (!isObject(events[BACKCHANNEL_LOGOUT_EVENT])) reject(`events must hold the member ${BACKCHANNEL_LOGOUT_EVENT} with an object value`);
  if ('nonce' in payload) reject('a logout token must not contain nonce');
  const sub = optionalId(payload, 'sub');
  const providerSid = optionalId(payload, 'sid');
  if (sub === undefined && providerSid === undefined) reject('the token names neither sid nor sub');

  return { iss: payload.iss as string, sub, providerSid, jti: payload.jti as string, iat: payload.iat, exp: payload.exp as number };
}

function checkHeader(header: Record<string, unknown>, expectedAlg: string): void {
  checkJwsHeader(header, expectedAlg, ACCEPTED_TYP, 'logout+jwt or JWT', reject);
}

function reportIssuedAt(payload: JWTPayload, policy: LogoutTokenPolicy): void {
  if (typeof payload.iat === 'number') policy.onIssuedAt?.(payload.iat);
}

function optionalId(payload: JWTPayload, claim: 'sub' | 'sid'): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH) reject(`${claim} must be a non-empty string`);
  return value as string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reject(reason: string): never {
  throw new InvalidLogoutToken(reason);
}
