/**
 * The development provider's users and its one client, apart from the provider itself so the demo
 * can configure and start the BFF before it has loaded oidc-provider (dev/demo.ts).
 */

/** Test users; carol moderates. */
export const ACCOUNTS = {
  alice: { given_name: 'Alice', family_name: 'Archer', email: 'alice@example.test', roles: ['user'] },
  bob: { given_name: 'Bob', family_name: 'Baker', email: 'bob@example.test', roles: ['user'] },
  carol: { given_name: 'Carol', family_name: 'Cook', email: 'carol@example.test', roles: ['user', 'board-admin'] },
} as const;
export type AccountId = keyof typeof ACCOUNTS;

export const CLIENT_ID = 'board-bff';
export const CLIENT_SECRET = 'a-client-secret-long-enough-for-hs256-tests-0123456789';
