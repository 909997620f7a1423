import { inject } from 'vitest';

/** Everything globalSetup decided for this run, handed to the test files through provide/inject. */
export interface E2eEnv {
  keycloak: {
    url: string;
    issuer: string;
    version: string;
    source: string;
    admin: { url: string; username: string; password: string };
  };
  clientId: string;
  clientSecret: string;
  /** Replica A receives logins and Keycloak's back-channel POSTs; replica B serves the SSE streams. */
  replicaUrls: [string, string];
  /** Origin of the loopback page that plays the React app (FRONTEND_URL). */
  frontendUrl: string;
  sessionSecret: string;
  redisUrl: string;
  redisPrefix: string;
  databaseUrl: string;
  accessTokenLifespanSeconds: number;
  livenessIntervalSeconds: number;
  /** Folder for replica logs of this run. */
  logDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eEnv;
  }
}

export function e2eEnv(): E2eEnv {
  return inject('e2e');
}

/** The demo users of keycloak/board-realm.json (passwords are the realm file's defaults). */
export const USERS = {
  alice: { username: 'alice', password: 'alice', name: 'Alice Anders' },
  bob: { username: 'bob', password: 'bob', name: 'Bob Berg' },
  carol: { username: 'carol', password: 'carol', name: 'Carol Castro' },
} as const;

/** Prefix for describe blocks, so every scenario line in the output names the real Keycloak it ran on. */
export function onKeycloak(title: string): string {
  return `[Keycloak ${e2eEnv().keycloak.version}] ${title}`;
}
