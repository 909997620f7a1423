import { createHash } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';

/** What the login request must hand to its callback; it never leaves the browser unencrypted. */
export interface LoginState {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The absolute, same-origin target resolved at login (resolveReturnTo), or '' for the default. */
  returnTo: string;
}

export interface LoginStateSealer {
  seal(state: LoginState, maxAgeSeconds: number): Promise<string>;
  /** The state, or null if the value was forged, altered, sealed under an unknown secret, or expired. */
  unseal(value: string): Promise<LoginState | null>;
}

/**
 * Login state (PKCE verifier, state, nonce, returnTo) travels in an encrypted, short-lived cookie
 * rather than a server-side session: an anonymous visitor hitting /auth/login costs no storage.
 * Keys derive from SESSION_SECRET; every listed secret can open, the first seals (rotation).
 */
export function createLoginStateSealer(secrets: readonly string[]): LoginStateSealer {
  const keys = secrets.map((secret) => createHash('sha256').update(`login-state:${secret}`).digest());
  return {
    async seal(state, maxAgeSeconds) {
      return new EncryptJWT({ ...state })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setIssuedAt()
        .setExpirationTime(`${maxAgeSeconds}s`)
        .encrypt(keys[0]!);
    },
    async unseal(value) {
      for (const key of keys) {
        try {
          const { payload } = await jwtDecrypt(value, key, { contentEncryptionAlgorithms: ['A256GCM'], keyManagementAlgorithms: ['dir'] });
          const { state, nonce, codeVerifier, returnTo } = payload;
          if ([state, nonce, codeVerifier, returnTo].every((v) => typeof v === 'string')) {
            return { state, nonce, codeVerifier, returnTo } as LoginState;
          }
          return null;
        } catch {
          // Not sealed with this key (or expired): try the next one.
        }
      }
      return null;
    },
  };
}
