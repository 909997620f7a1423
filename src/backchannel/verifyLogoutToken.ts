import type { JWTVerifyGetKey } from 'jose';
import { verifySignedJws, type DecodedJws } from './compactJws.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The token broke a rule of Back-Channel Logout 1.0: answer 400. The message names the rule. */
export class InvalidLogoutToken extends Error {
  override name = 'InvalidLogoutToken';
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
  /** Told the `iat` of every logout token of this issuer for this client whose signature verified, expired too (clock-offset measurement). */
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
/** The longest `jti`, `sub` or `sid` accepted (characters). */
export const MAX_ID_LENGTH = 1024;

/**
 * Verifies a back-channel logout token completely: signature and alg, `typ`, iss, aud, iat, exp,
 * nbf if present, jti, events, nonce, sid/sub (OpenID Connect Back-Channel Logout 1.0 §2.4 and
 * §2.6). Replay of `jti` is the caller's business: it needs shared storage. `decoded`: the token
 * as decodeCompactJws gives it, when the caller has decoded it already.
 *
 * The signature is checked with node:crypto (verifySignedJws, against the key jose's JSON Web
 * Key Set picks), the claims here, as jose's `jwtVerify` checked them before (its rules: `exp`
 * passed when ≤ now − tolerance, `nbf` in the future when > now + tolerance): CPU per token 0.80×
 * on the built server (README "Performance", fifth pass).
 */
export async function verifyLogoutToken(token: string, policy: LogoutTokenPolicy, decoded?: DecodedJws): Promise<LogoutClaims> {
  const { payload } = await verifySignedJws(
    token,
    { algorithm: policy.algorithm, keys: policy.keys, acceptedTyp: ACCEPTED_TYP, typLabel: 'logout+jwt or JWT', what: 'logout_token' },
    reject,
    decoded,
  );

  for (const claim of ['iss', 'aud', 'iat', 'exp', 'jti'] as const) {
    if (!Object.hasOwn(payload, claim)) reject(`claim ${claim} is missing`);
  }
  if (payload.iss !== policy.issuer) reject('claim iss is not the issuer');
  const aud = payload.aud;
  if (!(aud === policy.audience || (Array.isArray(aud) && aud.includes(policy.audience)))) reject('claim aud does not name this client');
  const events = payload.events;
  if (!isObject(events)) reject('events must be a JSON object');
  if (!isObject(events[BACKCHANNEL_LOGOUT_EVENT])) reject(`events must hold the member ${BACKCHANNEL_LOGOUT_EVENT} with an object value`);
  // A logout token of this issuer for this client tells the provider's clock, an expired one too;
  // not any other JWT the provider signed (an old access token would read as a clock far behind).
  if (typeof payload.iat === 'number') policy.onIssuedAt?.(payload.iat);
  const nowSeconds = Math.floor((policy.now ? policy.now().getTime() : Date.now()) / 1000);
  const tolerance = policy.clockToleranceSeconds;
  const { iat, exp, nbf } = payload;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) reject('claim iat must be a number');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) reject('claim exp must be a number');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) reject('claim nbf must be a number');
  if (exp <= nowSeconds - tolerance) reject('the token has expired (exp)');
  if (iat > nowSeconds + tolerance) reject('iat is in the future');
  if (nbf !== undefined && nbf > nowSeconds + tolerance) reject('the token is not valid yet (nbf)');
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_ID_LENGTH) {
    reject('jti must be a non-empty string');
  }
  if ('nonce' in payload) reject('a logout token must not contain nonce');
  const sub = optionalId(payload, 'sub');
  const providerSid = optionalId(payload, 'sid');
  if (sub === undefined && providerSid === undefined) reject('the token names neither sid nor sub');

  return { iss: payload.iss as string, sub, providerSid, jti: payload.jti, iat, exp };
}

function optionalId(payload: Record<string, unknown>, claim: 'sub' | 'sid'): string | undefined {
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
