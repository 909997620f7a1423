import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../src/audit/auditRepository.js';
import { sessionIdOf } from '../support/sessionIds.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';
import { sessionHandleOf } from '../../src/sessions/sessionHandle.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CSRF = { 'x-csrf': '1' };

interface ApiEntry {
  id: string;
  at: string;
  cause: string;
  user: { id: string; name: string };
  sessionId: string;
  actor: { id: string; name: string } | null;
  replica: string;
}

describe('the audit trail of sign-outs', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ replicas: 2, env: { TOKEN_REFRESH_SKEW_SECONDS: '30' } });
  });
  afterAll(() => world?.close());

  const [A, B] = [0, 1];
  const at = (replica: number, path: string) => `${world.apps[replica]!.url}${path}`;
  const services = (replica = A) => world.apps[replica]!.services;
  /** Everything that must never reach an audit row, an audit log line or the audit API. */
  const secrets = new Set<string>();
  const handles = new Map<UserAgent, string>();

  /** Signs in and remembers the session's secrets (cookie value, session id, tokens, provider sid, e-mail) and its public handle. */
  const session = async (account: 'alice' | 'bob' | 'carol') => {
    const agent = new UserAgent();
    await signIn(agent, world, account);
    const sid = sessionIdOf(agent, world.baseUrl);
    const auth = (await services().store.read(sid))!.auth!;
    const tokens = (await services().store.readTokens(sid, auth))!;
    for (const secret of [sid, agent.cookie(world.baseUrl, 'bff.sid')!, tokens.accessToken, tokens.refreshToken!, tokens.idToken, auth.providerSid!]) {
      secrets.add(secret);
    }
    secrets.add(auth.user.email!);
    handles.set(agent, sessionHandleOf(sid));
    return agent;
  };
  const listAs = async (agent: UserAgent, query = '', replica = A) => {
    const answer = await agent.fetch(at(replica, `/api/audit${query}`));
    const text = await answer.text();
    return { status: answer.status, text, body: JSON.parse(text) as { entries: ApiEntry[]; nextCursor: string | null; error?: string; fields?: Record<string, string> } };
  };
  const flushAll = () => Promise.all(world.apps.map((app) => app.services.audit.flush()));

  // Arranged once: one sign-out of every cause, by the people (or machinery) who cause them.
  const agents = {} as Record<string, UserAgent>;
  beforeAll(async () => {
    agents.aliceLogout = await session('alice');
    agents.bobLaptop = await session('bob');
    agents.bobPhone = await session('bob');
    agents.aliceVictim = await session('alice');
    agents.carol = await session('carol');
    agents.bobBackchannel = await session('bob');
    agents.aliceExpired = await session('alice');
    agents.aliceReader = await session('alice');

    // logout: alice signs out herself, on B.
    expect((await agents.aliceLogout!.fetch(at(B, '/auth/logout'), { headers: { accept: 'application/json' } })).status).toBe(200);
    // another_device: bob ends his phone's session from his laptop.
    expect((await agents.bobLaptop!.fetch(at(A, `/api/sessions/${handles.get(agents.bobPhone!)}`), { method: 'DELETE', headers: CSRF })).status).toBe(200);
    // moderator: carol ends one of alice's sessions.
    expect((await agents.carol!.fetch(at(B, `/api/sessions/${handles.get(agents.aliceVictim!)}`), { method: 'DELETE', headers: CSRF })).status).toBe(200);
    // backchannel_logout: the provider ends bob's third session.
    const bobPsid = (await services().store.read(sessionIdOf(agents.bobBackchannel!, world.baseUrl)))!.auth!.providerSid!;
    const logoutToken = await world.op.signLogoutToken({ sid: bobPsid, sub: 'bob' });
    secrets.add(logoutToken);
    expect((await fetch(at(A, '/auth/backchannel-logout'), { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: logoutToken }) })).status).toBe(200);
    // expired: a session past its absolute lifetime is ended by the next request.
    const expiredSid = sessionIdOf(agents.aliceExpired!, world.baseUrl);
    const expiredRecord = (await services().store.read(expiredSid))!;
    expiredRecord.auth!.absoluteExpiresAt = Date.now() - 1000;
    await services().store.write(expiredSid, expiredRecord);
    expect((await agents.aliceExpired!.fetch(at(B, '/api/user'))).status).toBe(401);
    // provider_session_ended: the provider refuses bob's laptop's refresh.
    const laptopSid = sessionIdOf(agents.bobLaptop!, world.baseUrl);
    const laptopRecord = (await services().store.read(laptopSid))!;
    laptopRecord.auth!.tokens.expiresAt = Date.now() + 1000;
    await services().store.write(laptopSid, laptopRecord);
    await world.op.revokeGrants('bob');
    expect((await agents.bobLaptop!.fetch(at(A, '/api/user'))).status).toBe(401);
    await flushAll();
  });

  it('when sessions end for each cause, then a moderator reads one entry per cause, with user, session handle, actor and replica', async () => {
    const { status, body } = await listAs(agents.carol!);
    expect(status).toBe(200);
    const byCause = new Map(body.entries.map((entry) => [entry.cause, entry]));
    expect([...byCause.keys()].sort()).toEqual(['another_device', 'backchannel_logout', 'expired', 'logout', 'moderator', 'provider_session_ended']);
    const replicas = world.apps.map((app) => app.services.config.replicaName);
    const expectEntry = (cause: string, user: string, agent: UserAgent, actor: string | null) => {
      const entry = byCause.get(cause)!;
      expect(entry).toMatchObject({ cause, user: { id: user }, sessionId: handles.get(agent) });
      expect(entry.actor?.id ?? null).toBe(actor);
      expect(replicas).toContain(entry.replica);
      expect(new Date(entry.at).toISOString()).toBe(entry.at);
    };
    expectEntry('logout', 'alice', agents.aliceLogout!, 'alice');
    expectEntry('another_device', 'bob', agents.bobPhone!, 'bob');
    expectEntry('moderator', 'alice', agents.aliceVictim!, 'carol');
    expectEntry('backchannel_logout', 'bob', agents.bobBackchannel!, null);
    expectEntry('expired', 'alice', agents.aliceExpired!, null);
    expectEntry('provider_session_ended', 'bob', agents.bobLaptop!, null);
    expect(byCause.get('moderator')).toMatchObject({ user: { name: 'Alice Archer' }, actor: { name: 'Carol Cook' } });
  });

  it('when a moderator filters by user or cause and pages with the cursor, then each page holds the right entries, newest first, without overlap', async () => {
    const bobs = (await listAs(agents.carol!, '?user=bob')).body.entries;
    expect(bobs.map((e) => e.user.id)).toEqual(['bob', 'bob', 'bob']);
    const moderated = (await listAs(agents.carol!, '?cause=moderator', B)).body.entries;
    expect(moderated.map((e) => e.cause)).toEqual(['moderator']);

    const first = (await listAs(agents.carol!, '?limit=4')).body;
    expect(first.entries).toHaveLength(4);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await listAs(agents.carol!, `?limit=4&cursor=${first.nextCursor}`, B)).body;
    expect(second.entries).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.entries, ...second.entries].map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(new Set(ids).size).toBe(6);
  });

  it('when a user reads the audit, then they see only their own entries, and asking for someone else\'s is 403', async () => {
    const own = await listAs(agents.aliceReader!);
    expect(own.status).toBe(200);
    expect(own.body.entries.map((e) => e.cause).sort()).toEqual(['expired', 'logout', 'moderator']);
    expect(own.body.entries.every((e) => e.user.id === 'alice')).toBe(true);
    expect((await listAs(agents.aliceReader!, '?user=alice')).body.entries).toHaveLength(3);
    const foreign = await listAs(agents.aliceReader!, '?user=bob');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toBe('forbidden');
    expect((await fetch(at(A, '/api/audit'))).status).toBe(401);
  });

  it('when the query is malformed, then the answer is 400 naming the field', async () => {
    const bad = await listAs(agents.carol!, '?cause=bored&limit=0&cursor=!!');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.fields!).sort()).toEqual(['cause', 'cursor', 'limit']);
  });

  it('when every audit row, audit log line and audit answer is scanned, then no token, cookie value, session id, provider sid or e-mail appears', async () => {
    const rows = await services().board.db.query('SELECT * FROM audit_log');
    const logLines = world.apps.flatMap((app) => app.logs.filter((line) => line.includes('sign-out audited')));
    const answers = [(await listAs(agents.carol!)).text, (await listAs(agents.aliceReader!)).text];
    // Not vacuous: the scanned material names the sessions (by handle) and holds one log line per entry.
    expect(rows.rows).toHaveLength(6);
    expect(logLines).toHaveLength(6);
    expect(answers[0]).toContain(handles.get(agents.aliceVictim!)!);
    expect(JSON.parse(logLines[0]!)).toMatchObject({ audit: { cause: expect.any(String), user: expect.any(String), session: expect.any(String) } });
    expect(secrets.size).toBeGreaterThanOrEqual(8 * 5);
    const haystack = [JSON.stringify(rows.rows), ...logLines, ...answers].join('\n');
    const leaked = [...secrets].filter((secret) => secret.length >= 8 && haystack.includes(secret));
    expect(leaked).toEqual([]);
  });

  it('when entries are older than the retention, then the sweep deletes them and keeps the rest', async () => {
    const repository = createAuditRepository(services().board.db);
    const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
    await repository.insert([
      { at: old, cause: 'logout', user: { issuer: world.op.issuer, sub: 'ghost', name: 'Ghost' }, sessionHandle: 'h', actor: null, replica: 'r' },
    ]);
    expect(await repository.purgeOlderThan(365)).toBe(1);
    expect((await services().board.db.query('SELECT 1 FROM audit_log')).rowCount).toBe(6);
  });
});
