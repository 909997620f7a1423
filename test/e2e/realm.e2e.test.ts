import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { KeycloakAdmin } from '../support/keycloakAdmin.js';
import { e2eEnv, onKeycloak, USERS } from './support/env.js';
import { authorizeInBrowser, signIn, startLogoutTokenReceiver } from './support/oidcRaw.js';

/**
 * keycloak/board-realm.json against the real server, without the app: what the realm promises
 * (client settings, roles in the ID token, PKCE enforced) and what Keycloak's logout tokens look like
 * for each admin action the app must handle.
 */
const env = e2eEnv();
const admin = new KeycloakAdmin(env.keycloak.admin);
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let browser: TestBrowser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe(onKeycloak('the board realm as imported'), () => {
  it('publishes discovery with back-channel logout, S256 PKCE and an end-session endpoint', async () => {
    const response = await fetch(`${env.keycloak.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(env.keycloak.issuer);
    expect(doc.backchannel_logout_supported).toBe(true);
    expect(doc.backchannel_logout_session_supported).toBe(true);
    expect(doc.code_challenge_methods_supported).toContain('S256');
    expect(doc.end_session_endpoint).toBe(`${env.keycloak.issuer}/protocol/openid-connect/logout`);
  });

  it('has the confidential client board-bff with the settings the app relies on', async () => {
    const client = (await admin.findClient(env.clientId)) as Record<string, any>;
    expect(client).toMatchObject({
      publicClient: false,
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      frontchannelLogout: false,
    });
    expect(client.attributes).toMatchObject({
      'pkce.code.challenge.method': 'S256',
      'backchannel.logout.session.required': 'true',
      'backchannel.logout.url': `${env.replicaUrls[0]}/auth/backchannel-logout`,
    });
    expect(client.attributes['post.logout.redirect.uris'].split('##')).toContain(env.frontendUrl);
    expect(client.redirectUris).toEqual(expect.arrayContaining(env.replicaUrls.map((u) => `${u}/auth/callback`)));
    const realm = await admin.request<{ accessTokenLifespan: number }>('GET', '/realms/board');
    expect(realm.accessTokenLifespan).toBe(env.accessTokenLifespanSeconds);
  });

  it('refuses the password grant for board-bff (direct access grants are off)', async () => {
    const response = await fetch(`${env.keycloak.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: env.clientId, client_secret: env.clientSecret, username: 'alice', password: 'alice', scope: 'openid' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('unauthorized_client');
  });

  it('refuses an authorization request without a PKCE challenge', async () => {
    const context = await browser.newContext();
    const callback = await authorizeInBrowser(context, env, { state: 'no-pkce' });
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('code')).toBeNull();
    await context.close();
  });

  it('when carol types her password on the login page, the ID token carries her realm roles and profile', async () => {
    const context = await browser.newContext();
    const tokens = await signIn(context, env, USERS.carol.username, USERS.carol.password);
    expect(tokens.idClaims).toMatchObject({
      iss: env.keycloak.issuer,
      aud: env.clientId,
      preferred_username: 'carol',
      email: 'carol@example.com',
      name: USERS.carol.name,
    });
    expect((tokens.idClaims.realm_access as { roles: string[] }).roles).toEqual(expect.arrayContaining(['user', 'board-admin']));
    expect(typeof tokens.idClaims.sid).toBe('string');
    const accessLifetime = (tokens.accessClaims.exp as number) - (tokens.accessClaims.iat as number);
    expect(accessLifetime).toBe(env.accessTokenLifespanSeconds);
    await context.close();
  });
});

describe(onKeycloak('logout tokens Keycloak sends for each admin action'), () => {
  let receiver: Awaited<ReturnType<typeof startLogoutTokenReceiver>>;
  let original: Record<string, any> & { id: string };
  const jwks = createRemoteJWKSet(new URL(`${env.keycloak.issuer}/protocol/openid-connect/certs`));

  beforeAll(async () => {
    // Point the client's back-channel URL at a recorder for this block only (no app replica runs here).
    receiver = await startLogoutTokenReceiver();
    original = await admin.findClient(env.clientId);
    await admin.updateClient({ ...original, attributes: { ...original.attributes, 'backchannel.logout.url': receiver.url } });
  });
  afterAll(async () => {
    if (original) await admin.updateClient(original);
    await receiver?.close();
  });

  const waitForTokens = async (count: number, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (receiver.received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return receiver.received.splice(0);
  };

  it('session "Sign out" → one signed logout+jwt token carrying exactly that sid', async () => {
    const tokens = await signIn(await browser.newContext(), env, USERS.alice.username, USERS.alice.password);
    const user = await admin.findUser('alice');
    const sessionIds = (await admin.userSessions(user.id)).map((s) => s.id);
    expect(sessionIds).toContain(tokens.idClaims.sid);

    await admin.deleteSession(tokens.idClaims.sid as string);
    const posts = await waitForTokens(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect([...posts[0]!.fields.keys()]).toEqual(['logout_token']);
    const logoutToken = posts[0]!.fields.get('logout_token')!;
    const header = decodeProtectedHeader(logoutToken);
    const { payload } = await jwtVerify(logoutToken, jwks, { issuer: env.keycloak.issuer, audience: env.clientId, algorithms: ['RS256'] });
    console.log(`[e2e keycloak] logout token header ${JSON.stringify(header)} payload keys ${Object.keys(payload).sort().join(',')}`);
    expect(header.typ).toBe('logout+jwt');
    expect(header.kid).toBeTruthy();
    expect(payload.sid).toBe(tokens.idClaims.sid);
    expect(payload.sub).toBe(tokens.idClaims.sub);
    expect(payload.events).toHaveProperty([BACKCHANNEL_EVENT]);
    expect(payload.nonce).toBeUndefined();
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(120);
  });

  it('user "Sign out" with two sessions → tokens recorded (Keycloak may name only one sid)', async () => {
    // The Keycloak is shared with the other end-to-end files: sessions bob kept from them would be
    // named too. They end first, and their tokens (posted while Keycloak answers, or just after) are dropped.
    const user = await admin.findUser('bob');
    await admin.logoutUser(user.id);
    await waitForTokens(Number.POSITIVE_INFINITY, 500);
    const first = await signIn(await browser.newContext(), env, USERS.bob.username, USERS.bob.password);
    const second = await signIn(await browser.newContext(), env, USERS.bob.username, USERS.bob.password);
    await admin.logoutUser(user.id);
    const posts = await waitForTokens(2, 5000);
    const sids = await Promise.all(
      posts.map(async (p) => (await jwtVerify(p.fields.get('logout_token')!, jwks, { audience: env.clientId })).payload.sid),
    );
    console.log(
      `[e2e keycloak] POST users/{id}/logout for 2 sessions sent ${posts.length} logout token(s) with sid(s) ${JSON.stringify(sids)} ` +
        `(sessions were ${first.idClaims.sid}, ${second.idClaims.sid})`,
    );
    expect(posts.length).toBeGreaterThanOrEqual(1);
    for (const sid of sids) expect([first.idClaims.sid, second.idClaims.sid]).toContain(sid);
    expect(await admin.userSessions(user.id)).toEqual([]);
  });

  it('realm "Sign out all active sessions" → no logout token at all, sessions gone', async () => {
    await signIn(await browser.newContext(), env, USERS.carol.username, USERS.carol.password);
    const result = await admin.logoutAll();
    const posts = await waitForTokens(1, 3000);
    console.log(`[e2e keycloak] POST logout-all answered ${JSON.stringify(result)} and sent ${posts.length} logout token(s)`);
    expect(posts).toHaveLength(0);
    expect(await admin.userSessions((await admin.findUser('carol')).id)).toEqual([]);
  });
});
