import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../scripts/buildServer.js';
import { startProcessWorld, type ProcessWorld } from '../support/processWorld.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn } from '../support/world.js';

const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * What `npm run build && npm start` (and the image's command) runs: the esbuild bundle in dist/, not
 * the TypeScript the other suites run through tsx. Paths a module finds from its own location
 * (the page's folder, the lazily loaded database driver) differ there.
 */
describe('the built server (npm run build, npm start)', () => {
  let world: ProcessWorld;
  beforeAll(async () => {
    await buildServer();
    world = await startProcessWorld({ replicas: 1, entry: 'dist' });
  }, 120_000);
  afterAll(() => world?.close());

  it('when a browser opens the origin, then it gets the built React app by default (no WEB_DIR)', async () => {
    const page = await fetch(`${world.baseUrl}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(readFileSync(join(WEB_DIST, 'index.html'), 'utf8'));
  });

  it('when someone signs in, then the API knows them, on PostgreSQL through the lazily loaded driver', async () => {
    const agent = new UserAgent();
    const landing = await signIn(agent, world, 'alice');
    expect(landing.hops.some((hop) => hop.startsWith(`${world.baseUrl}/auth/callback`))).toBe(true);
    const user = await agent.fetch(`${world.baseUrl}/api/user`);
    expect(user.status).toBe(200);
    expect(await user.json()).toMatchObject({ user: { id: 'alice', name: 'Alice Archer' } });
    const posts = await agent.fetch(`${world.baseUrl}/api/posts`);
    expect(posts.status).toBe(200);
  });
});
