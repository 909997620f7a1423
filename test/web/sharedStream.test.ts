import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startWorld, type World } from '../support/world.js';
import { callApi, eventually, openStreams, openTab, signInTab, waitLive } from './support/boardBrowser.js';

/**
 * Eight tabs of one browser share one event stream (a browser allows six HTTP/1.1 connections per
 * origin: eight streams would stall the site). Counted at the server.
 */
describe('one event stream per browser, shared by its tabs', () => {
  let world: World;
  let browser: TestBrowser;
  let alice: BrowserContext;
  let bobPage: Page;
  const tabs: Page[] = [];
  let postId: number;

  beforeAll(async () => {
    [world, browser] = await Promise.all([startWorld(), launchBrowser()]);
    alice = await browser.newContext();
    tabs.push(await signInTab(alice, world, 'alice'));
    const created = await callApi(tabs[0]!, 'POST', '/api/posts', { title: 'Eight tabs', body: 'one stream' });
    postId = created.body.post.id;
    bobPage = await signInTab(await browser.newContext(), world, 'bob');
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  const leaderIndex = async () => {
    const flags = await Promise.all(tabs.map((tab) => tab.getByTestId('connection').getAttribute('data-leader')));
    return flags.indexOf('true');
  };
  const bobComments = (body: string) => callApi(bobPage, 'POST', `/api/posts/${postId}/comments`, { body });

  it('eight tabs: one stream at the server, and every tab gets the comment toast', async () => {
    for (let i = 1; i < 8; i += 1) tabs.push(await openTab(alice, world, i % 2 ? `/posts/${postId}` : '/'));
    await eventually(() => openStreams(world), 2); // alice's browser and bob's
    expect(await leaderIndex()).toBe(0);

    expect((await bobComments('hello, all eight of you')).status).toBe(201);
    for (const tab of tabs) await tab.getByTestId('toast').filter({ hasText: 'hello, all eight of you' }).waitFor({ timeout: 5000 });
    for (const tab of tabs) expect(await tab.getByTestId('toast').count()).toBe(1);
    expect(openStreams(world)).toBe(2);
  });

  it('closing the leader tab hands the stream to another tab, which keeps every tab live', async () => {
    await tabs.shift()!.close();
    await eventually(async () => (await leaderIndex()) >= 0, true);
    for (const tab of tabs) await waitLive(tab);
    await eventually(() => openStreams(world), 2);

    await bobComments('still here after the handoff');
    for (const tab of tabs) await tab.getByTestId('toast').filter({ hasText: 'still here after the handoff' }).waitFor({ timeout: 5000 });
  });

  it('a replica’s streams ending (as at shutdown): tabs show reconnecting, then live, and no toast twice', async () => {
    const seen: string[] = [];
    await tabs[0]!.exposeFunction('reportState', (state: string) => seen.push(state));
    await tabs[0]!.evaluate(`new MutationObserver(() => reportState(document.querySelector('[data-testid=connection]').dataset.state))
      .observe(document.querySelector('[data-testid=connection]'), { attributes: true })`);
    world.apps[0]!.services.sse.closeAll();
    // Until a page has noticed the ended stream it still shows live: wait for the report first.
    await eventually(() => seen.includes('reconnecting'), true);
    for (const tab of tabs) await waitLive(tab, 15_000);
    await eventually(() => seen.at(-1), 'live'); // reports from the page arrive asynchronously
    await eventually(() => openStreams(world), 2);

    await bobComments('after the reconnect');
    for (const tab of tabs) await tab.getByTestId('toast').filter({ hasText: 'after the reconnect' }).waitFor({ timeout: 5000 });
    for (const tab of tabs) expect(await tab.getByTestId('toast').filter({ hasText: 'after the reconnect' }).count()).toBe(1);
  });

  it('the signed-out notice reaches every tab', async () => {
    const providerSession = (await alice.cookies(world.op.issuer)).find((c) => c.name === '_session')!.value;
    await world.op.admin.signOutSession(providerSession);
    for (const tab of tabs) {
      const notice = tab.getByTestId('signed-out');
      await notice.waitFor({ timeout: 3000 });
      expect(await notice.getAttribute('data-reason')).toBe('backchannel_logout');
    }
    await eventually(() => openStreams(world), 1);
  });
});
