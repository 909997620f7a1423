import { decodeProtectedHeader, errors } from 'jose';

/**
 * Rules shared by every signed message the provider sends us (logout tokens, Keycloak admin
 * actions). `fail` throws the caller's own error type with the broken rule as its message.
 */
export type Fail = (reason: string) => never;

/** The issuer's keys could not be fetched: not the token's fault, answer 503. */
export class SigningKeysUnavailable extends Error {
  override name = 'SigningKeysUnavailable';
}

/**
 * alg must be the one expected (never `none`, never HMAC); `typ`, if present, one of `acceptedTyp`
 * (lower case; compared case-insensitively, "application/" optional, RFC 7515 §4.1.9), which
 * `typLabel` names in the refusal.
 */
export function checkJwsHeader(
  header: Record<string, unknown>,
  expectedAlg: string,
  acceptedTyp: ReadonlySet<string>,
  typLabel: string,
  fail: Fail,
): void {
  const alg = typeof header.alg === 'string' ? header.alg : '';
  if (alg === '' || alg.toLowerCase() === 'none') fail('the token is not signed (alg "none")');
  if (alg.startsWith('HS')) fail(`symmetric alg ${alg} is not accepted`);
  if (alg !== expectedAlg) fail(`alg ${alg} is not the expected ${expectedAlg}`);
  if (header.typ !== undefined) {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : '';
    if (!acceptedTyp.has(typ)) fail(`header typ ${JSON.stringify(header.typ)} is not ${typLabel}`);
  }
}

export function decodeJwsHeader(token: string, fail: Fail, what: string): Record<string, unknown> {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return fail(`the ${what} is not a JWS in compact serialization`);
  }
}

/** Fetching the JWKS failed (network, timeout, non-200, malformed set): the provider's fault, not the token's. */
export function keysUnavailable(err: unknown): boolean {
  if (!(err instanceof errors.JOSEError)) return true;
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  return err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/i.test(err.message);
}

/** What the key set's refusal (jose: no key or several for the token's `kid`, an unsupported alg) says of the token. */
export function describeJoseError(err: errors.JOSEError): string {
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token (kid)';
  return err.message;
}
