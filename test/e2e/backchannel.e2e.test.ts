import { describe, expect, it } from 'vitest';
import { onKeycloak } from './support/env.js';
import { api, describeAnswer, isInvalidated, logTiming, pageEvents, waitForPageEvent, waitUntilRevoked } from './support/flows.js';
import { signInOnApp, useAppStack } from './support/stack.js';

/**
 * An administrator signs out one Keycloak session: Keycloak POSTs its logout token to replica A,
 * and the page, whose stream is served by replica B, is told at once.
 */
const stack = useAppStack();

describe(onKeycloak('admin signs out one Keycloak session (back-channel logout)'), () => {
  it('when the admin deletes alice\'s session, her page on replica B receives session_invalidated and her cookie is revoked on both replicas', async () => {
    const { env, admin } = stack;
    const alice = await signInOnApp(stack, 'alice');
    const user = await api(env.replicaUrls[1], '/api/user', alice.cookie);
    expect(user.body, describeAnswer('GET', '/api/user', user)).toMatchObject({ user: { username: 'alice', email: 'alice@example.com' } });
    expect((user.body as { user: { roles: string[] } }).user.roles).toContain('user');

    const calledAt = Date.now();
    await admin.deleteSession(alice.keycloakSession.id);
    const event = await waitForPageEvent(alice.page, isInvalidated, 10_000, 'the named event session_invalidated');
    logTiming('DELETE /admin/realms/board/sessions/{id} → page received session_invalidated (Keycloak → A → Redis → B → browser)', event.at - calledAt);

    expect(JSON.parse(event.data)).toMatchObject({ type: 'session_invalidated', reason: 'backchannel_logout' });
    // Existing clients only use onmessage: the unnamed message is sent too.
    await waitForPageEvent(alice.page, (e) => e.kind === 'message' && e.data === 'session_invalidated', 5_000, 'the unnamed "session_invalidated" message');
    await waitUntilRevoked(env.replicaUrls, alice.cookie, 5_000);

    const status = await api(env.replicaUrls[1], '/api/session-status', alice.cookie);
    expect(status.status).toBe(200);
    expect(status.body, describeAnswer('GET', '/api/session-status', status)).toMatchObject({
      authenticated: true,
      sessionActive: false,
      reason: 'backchannel_logout',
    });
    // The server ended the stream; EventSource reconnects, gets 401 and stays closed (readyState 2).
    await waitForPageEvent(alice.page, (e) => e.kind === 'error' && e.data === '2', 15_000, 'EventSource closed after its 401 reconnect');
    await alice.context.close();
  });

  it('with alice signed in from two browsers, signing out one Keycloak session ends only that browser\'s session', async () => {
    const { env, admin } = stack;
    const laptop = await signInOnApp(stack, 'alice');
    const phone = await signInOnApp(stack, 'alice');
    expect(laptop.keycloakSession.id).not.toBe(phone.keycloakSession.id);

    const calledAt = Date.now();
    await admin.deleteSession(laptop.keycloakSession.id);
    const event = await waitForPageEvent(laptop.page, isInvalidated, 10_000, 'session_invalidated on the signed-out browser');
    logTiming('DELETE one of two sessions → that page received session_invalidated', event.at - calledAt);
    await waitUntilRevoked(env.replicaUrls, laptop.cookie, 5_000);

    // Give a wrongly broad revocation time to show itself before asserting the other one lives.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await pageEvents(phone.page)).filter(isInvalidated)).toEqual([]);
    for (const url of env.replicaUrls) {
      const answer = await api(url, '/api/user', phone.cookie);
      expect(answer.status, describeAnswer('GET', `${url}/api/user`, answer)).toBe(200);
    }
    const sessions = await admin.userSessions(phone.userId);
    expect(sessions.map((s) => s.id)).toContain(phone.keycloakSession.id);
    expect(sessions.map((s) => s.id)).not.toContain(laptop.keycloakSession.id);
    await laptop.context.close();
    await phone.context.close();
  });
});
