import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { LogoutTokenPolicy } from '../../src/backchannel/verifyLogoutToken.js';

export const TEST_ISSUER = 'https://idp.example.test/realms/board';
export const TEST_CLIENT_ID = 'board-bff';
/** Seconds of clock tolerance in `policy`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface LogoutTokenKeys {
  /** Signs as the provider's RS256 key (`kid` rsa-1), the algorithm the policy expects. */
  rsa: PrivateKey;
  /** Signs as the provider's ES256 key (`kid` es-1): published, but not the expected algorithm. */
  es: PrivateKey;
  /** An RS256 key the provider never published. */
  stranger: PrivateKey;
  /** The provider's published keys (rsa-1, es-1), as its JWKS endpoint would serve them. */
  jwks: { keys: JWK[] };
  /** What the app checks a logout token against: these keys, TEST_ISSUER, TEST_CLIENT_ID, RS256. */
  policy: LogoutTokenPolicy;
}

/** Fresh keys of a stand-in provider for verifying logout tokens without one (no network). */
export async function createLogoutTokenKeys(): Promise<LogoutTokenKeys> {
  const rsaPair = await generateKeyPair('RS256');
  const esPair = await generateKeyPair('ES256');
  const jwks = {
    keys: [
      { ...(await exportJWK(rsaPair.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(esPair.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
    ],
  };
  return {
    rsa: rsaPair.privateKey,
    es: esPair.privateKey,
    stranger: (await generateKeyPair('RS256')).privateKey,
    jwks,
    policy: {
      issuer: TEST_ISSUER,
      audience: TEST_CLIENT_ID,
      algorithm: 'RS256',
      keys: createLocalJWKSet(jwks),
      clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
    },
  };
}
