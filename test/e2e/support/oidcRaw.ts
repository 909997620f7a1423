import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { decodeJwt } from 'jose';
import type { BrowserContext } from 'playwright-core';
import { freePort } from '../../support/ports.js';
import type { E2eEnv } from './env.js';
import { typeCredentials } from './flows.js';

/**
 * The code flow done by the test itself instead of the app, to check the realm file against real
 * Keycloak even where no app exists: the browser types on Keycloak's login form, the redirect to the
 * (registered) callback of replica A is intercepted before it leaves the browser, and the test
 * exchanges the code as the confidential client would.
 */
export interface Tokens {
  id_token: string;
  access_token: string;
  refresh_token: string;
  idClaims: Record<string, unknown>;
  accessClaims: Record<string, unknown>;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Signs in through Keycloak's form; returns the URL Keycloak redirected the browser to. */
export async function authorizeInBrowser(
  context: BrowserContext,
  env: E2eEnv,
  params: Record<string, string>,
  credentials?: { username: string; password: string },
): Promise<URL> {
  const redirectUri = `${env.replicaUrls[0]}/auth/callback`;
  let captured: string | undefined;
  // Playwright routes only the first URL of a redirect chain, so the callback (reached by Keycloak's
  // 302) is caught from the request events, which see every hop; nothing listens there, and the
  // browser's resulting connection error is expected.
  const onRequest = (request: { url(): string }) => {
    if (request.url().startsWith(`${redirectUri}?`)) captured ??= request.url();
  };
  context.on('request', onRequest);
  const url = new URL(`${env.keycloak.issuer}/protocol/openid-connect/auth`);
  url.search = new URLSearchParams({ client_id: env.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', ...params }).toString();
  const page = await context.newPage();
  await page.goto(url.href).catch((error: Error) => {
    if (!captured) throw error;
  });
  if (credentials) await typeCredentials(page, credentials.username, credentials.password);
  const deadline = Date.now() + 30_000;
  while (!captured) {
    if (Date.now() > deadline) throw new Error(`Keycloak never redirected to ${redirectUri}; page is at ${page.url()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  context.off('request', onRequest);
  await page.close();
  return new URL(captured);
}

export async function exchangeCode(env: E2eEnv, code: string, verifier: string): Promise<Tokens> {
  const response = await fetch(`${env.keycloak.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: `${env.replicaUrls[0]}/auth/callback`,
      client_id: env.clientId,
      client_secret: env.clientSecret,
    }),
  });
  const body = (await response.json()) as Omit<Tokens, 'idClaims' | 'accessClaims'>;
  if (!response.ok) throw new Error(`code exchange → ${response.status} ${JSON.stringify(body)}`);
  return { ...body, idClaims: decodeJwt(body.id_token), accessClaims: decodeJwt(body.access_token) };
}

/** A full sign-in of one user in a fresh context; returns the tokens (its `sid` is the Keycloak session). */
export async function signIn(context: BrowserContext, env: E2eEnv, username: string, password: string): Promise<Tokens> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const callback = await authorizeInBrowser(
    context,
    env,
    { code_challenge: challenge, code_challenge_method: 'S256', state, nonce: randomBytes(8).toString('hex') },
    { username, password },
  );
  if (callback.searchParams.get('state') !== state) throw new Error(`state mismatch in ${callback.href}`);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  return exchangeCode(env, code, verifier);
}

/** Records what Keycloak POSTs to a back-channel logout URL pointed at it. */
export async function startLogoutTokenReceiver(): Promise<{
  url: string;
  received: Array<{ contentType: string | undefined; fields: URLSearchParams; at: number }>;
  close(): Promise<void>;
}> {
  const received: Array<{ contentType: string | undefined; fields: URLSearchParams; at: number }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], fields: new URLSearchParams(body), at: Date.now() });
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}/auth/backchannel-logout`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
