import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../scripts/buildServer.js';
import { startProcessWorld, type ProcessWorld } from '../support/processWorld.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn } from '../support/world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB_DIST = join(ROOT, 'web/dist/');

/** The `codeCache` the server logged at start (src/main.ts), or undefined if it logged none. */
function codeCacheLogged(logFile: string): string | undefined {
  const line = readFileSync(logFile, 'utf8').split('\n').find((entry) => entry.includes('"codeCache"'));
  return line ? (JSON.parse(line) as { codeCache: string }).codeCache : undefined;
}

/** Another checkout holding a copy of dist/ (changed by `change`), with this one's package.json and dependencies. */
function checkoutWithDist(change: (dist: string) => void): string {
  const root = mkdtempSync(join(tmpdir(), 'board-bff-dist-'));
  cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  change(join(root, 'dist'));
  return root;
}

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
  const checkouts: string[] = [];
  afterAll(async () => {
    await world?.close();
    for (const root of checkouts) rmSync(root, { recursive: true, force: true });
  });

  it('when it starts, then it compiles from the code cache the build made (README "Performance")', () => {
    expect(codeCacheLogged(world.replicas[0]!.logFile)).toBe('accepted');
  });

  it('when the code cache is missing, damaged or made for another bundle, then the server starts all the same, compiled from source', async () => {
    const cases = {
      absent: (dist: string) => rmSync(join(dist, 'main.cjs.cache')),
      corrupt: (dist: string) => writeFileSync(join(dist, 'main.cjs.cache'), readFileSync(join(dist, 'main.cjs.cache')).subarray(0, 5000)),
      stale: (dist: string) => writeFileSync(join(dist, 'main.cjs'), `${readFileSync(join(dist, 'main.cjs'), 'utf8')}\n// rebuilt\n`),
    };
    for (const [status, change] of Object.entries(cases)) {
      const root = checkoutWithDist(change);
      checkouts.push(root);
      const replica = await world.startReplica({}, root);
      expect(codeCacheLogged(replica.logFile)).toBe(status);
      expect((await fetch(`${replica.url}/readyz`)).status).toBe(200);
      await replica.stop();
    }
  }, 120_000);

  it("when it is ready, then Node's fetch (undici) has not been loaded: nothing before the first sign-in needs it (README Performance)", async () => {
    const modulesFile = join(mkdtempSync(join(tmpdir(), 'board-bff-modules-')), 'modules.json');
    const replica = await world.startReplica({ NODE_OPTIONS: `--import ${join(ROOT, 'test/deploy/support/loadedModules.mjs')}`, LOADED_MODULES_FILE: modulesFile });
    expect((await fetch(`${replica.url}/readyz`)).status).toBe(200);
    await replica.stop();
    const loaded = JSON.parse(readFileSync(modulesFile, 'utf8')) as string[];
    rmSync(modulesFile);
    expect(loaded).toContain('NativeModule net');
    expect(loaded.filter((name) => /undici|http2|webstreams\/readablestream/.test(name))).toEqual([]);
    expect(codeCacheLogged(replica.logFile)).toBe('accepted');
  }, 60_000);

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
