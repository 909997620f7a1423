import { constants, KeyObject, verify, webcrypto, type VerifyKeyObjectInput } from 'node:crypto';
import type { CompactJWSHeaderParameters, errors, JWTVerifyGetKey } from 'jose';
import { checkJwsHeader, decodeJwsHeader, describeJoseError, keysUnavailable, SigningKeysUnavailable, type Fail } from './jwsChecks.js';

/** A compact JWS split and decoded, its signature not checked yet. */
export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The encoded header and payload as sent, joined by ".": what the signature covers. */
  signingInput: string;
  /** base64url, as sent. */
  signature: string;
}

// RFC 7515 §7.1: three base64url segments (Node's base64url decoder skips stray characters, which
// would let many strings stand for one token: the shape is checked first).
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The token's header and payload, or undefined when it is not a compact JWS whose header and
 * payload are JSON objects (UTF-8). Nothing is verified.
 */
export function decodeCompactJws(token: string): DecodedJws | undefined {
  if (!COMPACT_JWS.test(token)) return undefined;
  const headerEnd = token.indexOf('.');
  const payloadEnd = token.indexOf('.', headerEnd + 1);
  const header = jsonObject(token.slice(0, headerEnd));
  const payload = jsonObject(token.slice(headerEnd + 1, payloadEnd));
  if (!header || !payload) return undefined;
  return { header, payload, signingInput: token.slice(0, payloadEnd), signature: token.slice(payloadEnd + 1) };
}

function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(canonicalBase64url(segment)));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** verifyJwsSignature's refusal, told apart from the key set's errors. */
class Refused extends Error {}

/** What a provider's signed message must show before its payload is read (logout tokens, admin actions). */
export interface SignedJwsRules {
  algorithm: string;
  keys: JWTVerifyGetKey;
  /** Accepted `typ` values, lower case (checkJwsHeader), and how a refusal names them. */
  acceptedTyp: ReadonlySet<string>;
  typLabel: string;
  /** What the message is called in a refusal ("logout_token"). */
  what: string;
}

/**
 * Decodes a provider's signed message, checks its header (checkJwsHeader) and its signature
 * (verifyJwsSignature); returns it decoded, its payload not checked yet. `decoded`: the token as
 * decodeCompactJws gives it, when the caller has decoded it already. `fail` throws the caller's
 * error for a fault of the token, naming the rule it breaks (a token that is not a compact JWS is
 * still read for its header: an unsigned one is refused as such); SigningKeysUnavailable when the
 * issuer's keys cannot be fetched.
 */
export async function verifySignedJws(token: string, rules: SignedJwsRules, fail: Fail, decoded = decodeCompactJws(token)): Promise<DecodedJws> {
  const checkHeader = (header: Record<string, unknown>) => checkJwsHeader(header, rules.algorithm, rules.acceptedTyp, rules.typLabel, fail);
  if (!decoded) {
    checkHeader(decodeJwsHeader(token, fail, rules.what));
    return fail(`the ${rules.what} is not a JWS in compact serialization whose header and payload are JSON objects`);
  }
  checkHeader(decoded.header);
  try {
    await verifyJwsSignature(decoded, rules.algorithm, rules.keys, (reason) => {
      throw new Refused(reason);
    });
  } catch (err) {
    if (err instanceof Refused) return fail(err.message);
    if (keysUnavailable(err)) throw new SigningKeysUnavailable(`the issuer's signing keys could not be fetched: ${(err as Error).message}`);
    return fail(describeJoseError(err as errors.JOSEError));
  }
  return decoded;
}

/**
 * The bytes `segment` encodes, if it is their one base64url spelling; throws otherwise. Node's
 * decoder ignores a dangling last character and non-zero trailing bits, so several strings would
 * stand for one token (RFC 7515 §2 and §7.1: unpadded base64url; jose's decoder refused them too).
 */
function canonicalBase64url(segment: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw new TypeError('not canonical base64url');
  return bytes;
}

/** node:crypto's verification of each asymmetric JWS alg (RFC 7518 §3.3–3.5, RFC 8037 §3.1), and the key it needs. */
interface AlgParameters {
  /** null: the alg hashes by itself (EdDSA). */
  hash: string | null;
  keyTypes: readonly string[];
  /** EC keys: the curve, as node:crypto names it. */
  curve?: string;
  options?: Omit<VerifyKeyObjectInput, 'key'>;
}
const rsa = (bits: number): AlgParameters => ({ hash: `sha${bits}`, keyTypes: ['rsa'] });
const pss = (bits: number): AlgParameters => ({
  hash: `sha${bits}`,
  keyTypes: ['rsa', 'rsa-pss'],
  options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 },
});
const ecdsa = (bits: number, curve: string): AlgParameters => ({ hash: `sha${bits}`, keyTypes: ['ec'], curve, options: { dsaEncoding: 'ieee-p1363' } });
const ALGS: Readonly<Record<string, AlgParameters>> = {
  RS256: rsa(256),
  RS384: rsa(384),
  RS512: rsa(512),
  PS256: pss(256),
  PS384: pss(384),
  PS512: pss(512),
  ES256: ecdsa(256, 'prime256v1'),
  ES384: ecdsa(384, 'secp384r1'),
  ES512: ecdsa(512, 'secp521r1'),
  EdDSA: { hash: null, keyTypes: ['ed25519'] },
  Ed25519: { hash: null, keyTypes: ['ed25519'] },
};
/** RFC 7518 §3.3: RSA keys of 2048 bits or more (jose refuses smaller ones too). */
const MIN_RSA_BITS = 2048;

/** jose's key set keeps one CryptoKey per key and alg: its KeyObject is made once. */
const keyObjects = new WeakMap<object, KeyObject>();

/**
 * Checks the signature of `jws` with node:crypto, synchronously, against the key `keys` picks for
 * its header (jose's JSON Web Key Set: `kid`, `alg`, `use`, key type). `alg` is the one expected:
 * the caller has checked the header names it. `fail` throws for a token the key does not fit or
 * whose signature does not verify; errors of `keys` (no such key, keys unavailable) propagate.
 *
 * Why not jose's `jwtVerify`, which did this before: jose 6 verifies through WebCrypto only (its own
 * steps, WebCrypto's algorithm normalisation, a thread-pool job and its promises per token). In
 * this process, 32 in flight: 88 µs of CPU per logout token with jwtVerify, 33 µs for the whole of
 * verifyLogoutToken with this (`npx tsx test/bench/logoutTokenVerify.ts`); on the built server,
 * CPU per valid token 0.80× (241 → 200 µs, paired A/B, 7 rounds: README "Performance", fifth pass).
 * Synchronous on purpose: node:crypto's `verify` given a callback (libuv's pool) cost the server
 * 1.12× the CPU per token for 0.92× of its main thread's, and 0.88× the tokens/s (paired A/B).
 */
async function verifyJwsSignature(jws: DecodedJws, alg: string, keys: JWTVerifyGetKey, fail: Fail): Promise<void> {
  const parameters = ALGS[alg];
  if (!parameters) return fail(`alg ${alg} is not supported`);
  if (jws.header.crit !== undefined) fail('the header names extensions that must be understood (crit); none is supported');
  const [encodedHeader, payload] = jws.signingInput.split('.') as [string, string];
  const key = await keys(jws.header as CompactJWSHeaderParameters, { protected: encodedHeader, payload, signature: jws.signature });
  const keyObject = usableKey(key, alg, parameters, fail);
  let verified = false;
  try {
    verified = verify(parameters.hash, Buffer.from(jws.signingInput), { ...parameters.options, key: keyObject }, canonicalBase64url(jws.signature));
  } catch {
    // A signature of the wrong length for the key (ECDSA) is refused by throwing.
  }
  if (!verified) fail('the signature does not verify');
}

/** The key as a public KeyObject of the type and size `alg` needs, or `fail`. */
function usableKey(key: unknown, alg: string, parameters: AlgParameters, fail: Fail): KeyObject {
  let keyObject = key instanceof KeyObject ? key : keyObjects.get(key as object);
  if (!keyObject) {
    try {
      keyObject = KeyObject.from(key as webcrypto.CryptoKey);
    } catch {
      return fail(`the issuer's key for ${alg} is not a key of WebCrypto or node:crypto`);
    }
    keyObjects.set(key as object, keyObject);
  }
  const type = keyObject.asymmetricKeyType ?? '';
  if (keyObject.type !== 'public' || !parameters.keyTypes.includes(type)) fail(`the issuer's key does not fit alg ${alg}`);
  if (type === 'rsa' || type === 'rsa-pss') {
    if ((keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) fail(`the issuer's key is shorter than ${MIN_RSA_BITS} bits`);
  } else if (parameters.curve !== undefined && keyObject.asymmetricKeyDetails?.namedCurve !== parameters.curve) {
    fail(`the issuer's key is not on the curve of alg ${alg}`);
  }
  return keyObject;
}
