import { writeFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startDevProvider, type TestProvider } from '../../dev/oidcProvider.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { databaseSettings } from '../support/databaseSettings.js';
import { openSse } from '../support/sseClient.js';
import { listenOnLoopback, startTestApp, urlOf, type TestApp } from '../support/testApp.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn } from '../support/world.js';

/**
 * The embedded board database (PGlite, no DATABASE_URL) starts on first use, not with the process:
 * sign-in, sessions and the event stream never wait for it, a board request waits for its start,
 * and a start that fails answers 503 with the JSON error body (never a 500).
 */
describe('embedded database started on first use', () => {
  const running: Array<TestApp | TestProvider> = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const part of running.splice(0).reverse()) await part.close();
  });
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** The in-process app (memory sessions, embedded database) and a provider of its own. */
  const startApp = async (options: { env?: Record<string, string>; openEmbeddedDatabase?: () => Promise<Database> } = {}) => {
    const server = await listenOnLoopback();
    const baseUrl = urlOf(server);
    const op = await startDevProvider({ clientBaseUrl: baseUrl });
    running.push(op);
    const app = await startTestApp({ issuer: op.issuer, server, baseUrl, awaitSchema: false, ...options });
    running.push(app);
    return { app, baseUrl, world: { op, baseUrl } };
  };
  const readiness = async (baseUrl: string) => {
    const response = await fetch(`${baseUrl}/readyz`);
    return { status: response.status, database: ((await response.json()) as { checks: Record<string, string> }).checks.database };
  };

  it('when nothing has used the board yet, then sign-in, /api/user and the event stream work while the database has not started, and the first board request waits for it and succeeds', async () => {
    let opens = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { app, baseUrl, world } = await startApp({
      openEmbeddedDatabase: async () => {
        opens += 1;
        await gate;
        return createDatabase(databaseSettings({}), createLogger({ level: 'silent' }));
      },
    });
    expect(await readiness(baseUrl)).toEqual({ status: 200, database: 'standby' });
    expect(opens).toBe(0);

    const alice = new UserAgent();
    const login = await signIn(alice, world, 'alice');
    expect(login.hops.at(-1)).toBe(`${baseUrl}/`);
    const user = await alice.fetch(`${baseUrl}/api/user`);
    expect(user.status).toBe(200);
    expect(((await user.json()) as { user: { username: string } }).user.username).toBe('alice');
    const stream = await openSse(`${baseUrl}/api/events`, { cookie: alice.cookieHeader(baseUrl) });
    await stream.next((m) => m.data === 'connected');
    stream.close();
    // The sign-in's user provisioning began the start (a hint that the board comes next); it is held at the gate.
    expect(opens).toBe(1);
    expect(app.services.board.schema.isReady()).toBe(false);
    expect(await readiness(baseUrl)).toEqual({ status: 200, database: 'starting' });

    const posts = alice.fetch(`${baseUrl}/api/posts`);
    let answered = false;
    void posts.then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    release();
    const listed = await posts;
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ posts: [], nextCursor: null, hasMore: false });

    const created = await alice.fetch(`${baseUrl}/api/posts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf': '1', origin: baseUrl },
      body: JSON.stringify({ title: 'Lazy', body: 'but here' }),
    });
    expect(created.status).toBe(201);
    expect(await readiness(baseUrl)).toEqual({ status: 200, database: 'up' });
    expect(opens).toBe(1);
  }, 60_000);

  it('when a browser loads a page, then the embedded database starts (the board comes next), and the page does not wait for it', async () => {
    let opens = 0;
    const { baseUrl } = await startApp({
      openEmbeddedDatabase: async () => {
        opens += 1;
        return new Promise<Database>(() => undefined); // a start that never ends: nothing here may wait for it
      },
    });
    const api = await fetch(`${baseUrl}/api/session-status`);
    expect(api.status).toBe(200);
    expect(opens).toBe(0);
    const page = await fetch(`${baseUrl}/posts/1`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(opens).toBe(1);
    expect(await readiness(baseUrl)).toEqual({ status: 200, database: 'starting' });
  });

  it('when the embedded database fails to start, then board requests answer 503 temporarily_unavailable with Retry-After, readiness says down, and sign-in still works', async () => {
    const { baseUrl, world } = await startApp({
      openEmbeddedDatabase: async () => {
        throw new Error('out of memory (simulated)');
      },
    });
    const alice = new UserAgent();
    await signIn(alice, world, 'alice');
    expect((await alice.fetch(`${baseUrl}/api/user`)).status).toBe(200);

    const posts = await alice.fetch(`${baseUrl}/api/posts`);
    expect(posts.status).toBe(503);
    expect(posts.headers.get('content-type')).toMatch(/^application\/json/);
    expect(posts.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await posts.json()).toMatchObject({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(await readiness(baseUrl)).toEqual({ status: 503, database: 'down' });
  });

  it('when PGLITE_DIR cannot hold a database, then the board answers 503 (not 500) at its first use', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'board-bff-lazy-'));
    dirs.push(dir);
    const notADirectory = join(dir, 'a-file');
    await writeFile(notADirectory, 'not a data directory');
    const { baseUrl, world } = await startApp({ env: { PGLITE_DIR: notADirectory } });
    const alice = new UserAgent();
    await signIn(alice, world, 'alice');
    const posts = await alice.fetch(`${baseUrl}/api/posts`);
    expect(posts.status).toBe(503);
    expect(await posts.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(await readFile(notADirectory, 'utf8')).toBe('not a data directory');
  }, 60_000);
});
