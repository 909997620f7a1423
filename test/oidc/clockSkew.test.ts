import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/testApp.js';
import { UserAgent } from '../support/userAgent.js';
import { signIn, startWorld, type World } from '../support/world.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * Issue 8 item 8: with the provider's clock ahead by more than the tolerance, logout tokens are
 * refused while sign-ins keep working. The operator must see it: the measured offset is a metric,
 * and a warning (rate-limited) is logged.
 */
describe("the provider's clock against ours", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.close());

  const aheadBy = async (seconds: number) => {
    const iat = Math.floor(Date.now() / 1000) + seconds;
    return world.op.signLogoutToken({ sub: 'nobody', iat, exp: iat + 120 });
  };
  const post = (app: TestApp, token: string) =>
    fetch(`${app.url}/auth/backchannel-logout`, { method: 'POST', headers: FORM, body: new URLSearchParams({ logout_token: token }).toString() });
  const offsetMetric = async (app: TestApp): Promise<number | undefined> => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('bff_oidc_clock_offset_seconds '));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  const warnings = (app: TestApp) => app.logs.filter((line) => line.includes('"level":"warn"') && line.includes("OpenID Provider's clock"));

  it('when a user signs in, then the offset measured from the ID token is exported (about zero here)', async () => {
    await signIn(new UserAgent(), world, 'alice');
    const offset = await offsetMetric(world.apps[0]!);
    expect(offset).toBeDefined();
    expect(Math.abs(offset!)).toBeLessThan(5);
    expect(warnings(world.apps[0]!)).toEqual([]);
  });

  it('when the provider runs 60 s ahead, then its logout tokens are refused, the offset shows it, and one warning is logged', async () => {
    const app = world.apps[0]!;
    for (let i = 0; i < 3; i++) {
      const response = await post(app, await aheadBy(60));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error_description: expect.stringContaining('iat is in the future') });
    }
    const offset = await offsetMetric(app);
    expect(offset).toBeGreaterThan(55);
    expect(offset).toBeLessThanOrEqual(61);
    const warned = warnings(app);
    expect(warned).toHaveLength(1);
    expect(JSON.parse(warned[0]!)).toMatchObject({ offsetSeconds: expect.any(Number), toleranceSeconds: 30 });
  });

  it('when the provider runs 5 minutes behind, then its tokens read as expired and the offset shows why', async () => {
    const app = world.apps[0]!;
    const response = await post(app, await aheadBy(-300));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error_description: expect.stringContaining('expired') });
    const offset = await offsetMetric(app);
    expect(offset).toBeLessThan(-295);
    expect(offset).toBeGreaterThanOrEqual(-301);
  });

  it('when OIDC_CLOCK_TOLERANCE_SECONDS covers the offset, then the same tokens are accepted and nothing is logged', async () => {
    const tolerant = await startTestApp({ issuer: world.op.issuer, env: { OIDC_CLOCK_TOLERANCE_SECONDS: '90', REDIS_PREFIX: `${world.prefix}tolerant:` }, awaitSchema: false });
    try {
      expect((await post(tolerant, await aheadBy(60))).status).toBe(200);
      expect(await offsetMetric(tolerant)).toBeGreaterThan(55);
      expect(warnings(tolerant)).toEqual([]);
    } finally {
      await tolerant.close();
    }
  });
});
