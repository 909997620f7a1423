import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startWorld, type World } from '../support/world.js';
import { callApi, eventually, openStreams, openTab, signInTab, waitLive } from './support/boardBrowser.js';

/**
 * Two replicas on Redis. The replica holding the browser's stream goes away and its address is taken
 * over by the other one (as a load balancer would route): the tabs show reconnecting, then live, on
 * the surviving replica, and the next comment's toast appears once per tab.
 */
describe('the stream’s replica goes away', () => {
  let world: World;
  let browser: TestBrowser;
  let forwarder: net.Server | undefined;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    [world, browser] = await Promise.all([startWorld({ replicas: 2 }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)));
    await world?.close();
  });

  /** The BASE_URL port now leads to the surviving replica (call after removing the gone one). */
  const routeToSurvivor = async () => {
    const port = Number(new URL(world.baseUrl).port);
    const target = Number(new URL(world.apps[0]!.url).port); // the survivor
    forwarder = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined).on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => forwarder!.listen(port, '127.0.0.1', resolve));
  };

  it('tabs show reconnecting, then live on the other replica, and get each toast once', async () => {
    const alice = await browser.newContext();
    const tabs: Page[] = [await signInTab(alice, world, 'alice')];
    tabs.push(await openTab(alice, world, '/'));
    const post = await callApi(tabs[0]!, 'POST', '/api/posts', { title: 'Failover', body: 'does it hold?' });
    const bobPage = await signInTab(await browser.newContext(), world, 'bob');
    await eventually(() => world.apps[0]!.services.sse.size, 2);

    const seen: string[] = [];
    await tabs[1]!.exposeFunction('reportState', (state: string) => seen.push(state));
    await tabs[1]!.evaluate(`new MutationObserver(() => reportState(document.querySelector('[data-testid=connection]').dataset.state))
      .observe(document.querySelector('[data-testid=connection]'), { attributes: true })`);

    const gone = world.apps.shift()!;
    await gone.close();
    // Until the page has noticed the closed stream it still shows live; wait for that before routing.
    await eventually(() => seen.includes('reconnecting'), true);
    await routeToSurvivor();
    for (const tab of [...tabs, bobPage]) await waitLive(tab, 20_000);
    await eventually(() => seen.at(-1), 'live'); // reports from the page arrive asynchronously
    await eventually(() => openStreams(world), 2);

    expect((await callApi(bobPage, 'POST', `/api/posts/${post.body.post.id}/comments`, { body: 'held fine' })).status).toBe(201);
    for (const tab of tabs) await tab.getByTestId('toast').filter({ hasText: 'held fine' }).waitFor({ timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a duplicate to show up, if there were one
    for (const tab of tabs) expect(await tab.getByTestId('toast').count()).toBe(1);
  });
});
