import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startWorld, type World } from '../support/world.js';
import { callApi, openTab, signInTab, waitLive } from './support/boardBrowser.js';

/**
 * The README's screenshots: taken on every run (a blank or failing page fails the test), written
 * to docs/ only with UPDATE_SCREENSHOTS=1, so a test run leaves the work tree as it found it.
 */
async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot();
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  expect(png.length).toBeGreaterThan(10_000);
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    await mkdir('docs', { recursive: true });
    await writeFile(`docs/${name}`, png);
  }
}

/** The React board in Chromium against the real BFF (Redis, PostgreSQL) and the in-process provider. */
describe('the board app in a browser', () => {
  let world: World;
  let browser: TestBrowser;
  let alice: BrowserContext;
  let bob: BrowserContext;

  beforeAll(async () => {
    [world, browser] = await Promise.all([startWorld(), launchBrowser()]);
    [alice, bob] = await Promise.all([browser.newContext(), browser.newContext()]);
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it('when bob comments on alice’s post, then alice gets a toast and her open post shows the comment text without a reload', async () => {
    const alicePage = await signInTab(alice, world, 'alice');
    await alicePage.getByLabel('Title').fill('Lunch on Friday?');
    await alicePage.getByLabel('Text').fill('Who is in for the new place around the corner?');
    await alicePage.getByRole('button', { name: 'Publish' }).click();
    await alicePage.getByRole('link', { name: 'Lunch on Friday?' }).waitFor();
    const listTab = await openTab(alice, world, '/');
    await alicePage.getByRole('link', { name: 'Lunch on Friday?' }).click();
    await alicePage.getByRole('heading', { name: 'Lunch on Friday?' }).waitFor();

    const bobPage = await signInTab(bob, world, 'bob');
    await bobPage.getByRole('link', { name: 'Lunch on Friday?' }).click();
    await bobPage.getByLabel('Your comment').fill('Count me in — 12:30?');
    await bobPage.getByRole('button', { name: 'Comment' }).click();

    const toast = alicePage.getByTestId('toast');
    await toast.waitFor({ timeout: 5000 });
    expect(await toast.innerText()).toContain('Bob Baker commented on “Lunch on Friday?”');
    expect(await toast.innerText()).toContain('Count me in — 12:30?');
    await alicePage.getByTestId('comment-body').filter({ hasText: 'Count me in — 12:30?' }).waitFor({ timeout: 5000 });
    await listTab.getByTestId('comment-count').filter({ hasText: '1 comment' }).waitFor({ timeout: 5000 });
    expect(await bobPage.getByTestId('toast').count()).toBe(0);

    await alicePage.setViewportSize({ width: 1100, height: 720 });
    await screenshot(alicePage, 'board.png');
  });

  it('a moderator sees edit and delete on everyone’s posts; a member only on their own', async () => {
    const carol = await browser.newContext();
    const carolPage = await signInTab(carol, world, 'carol');
    await carolPage.getByRole('link', { name: 'Lunch on Friday?' }).click();
    await carolPage.getByRole('button', { name: 'Delete post' }).waitFor();
    const bobPage = await openTab(bob, world, carolPage.url().replace(world.baseUrl, ''));
    await bobPage.getByRole('heading', { name: 'Lunch on Friday?' }).waitFor();
    expect(await bobPage.getByRole('button', { name: 'Delete post' }).count()).toBe(0);
    expect(await bobPage.getByRole('button', { name: 'Edit' }).count()).toBe(1); // his own comment only
  });

  it('invalid input shows the API’s reason next to the form, in words', async () => {
    const page = await openTab(alice, world, '/');
    await page.getByLabel('Title').fill('   ');
    await page.getByLabel('Text').fill('body');
    await page.getByRole('button', { name: 'Publish' }).click();
    const error = page.getByRole('alert');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/^The title /);
  });

  it('"My sessions": alice signs her other device out and that device shows the notice', async () => {
    const laptop = await browser.newContext();
    const laptopPage = await signInTab(laptop, world, 'alice');
    const phone = await openTab(alice, world, '/sessions');
    const rows = phone.getByTestId('session');
    await rows.nth(1).waitFor();
    const others = phone.getByRole('button', { name: 'Sign out that device' });
    expect(await others.count()).toBeGreaterThanOrEqual(1);
    // The newest other session is the laptop's (the list is newest first; the current one is marked).
    await phone.locator('[data-testid="session"][data-current="false"]').first().getByRole('button').click();

    const notice = laptopPage.getByTestId('signed-out');
    await notice.waitFor({ timeout: 2000 });
    expect(await notice.getAttribute('data-reason')).toBe('revoked');
    expect(await notice.innerText()).toContain('Signed out from another device');
    expect((await callApi(laptopPage, 'GET', '/api/user')).body.error).toBe('session_revoked');
    await waitLive(phone);
    expect((await callApi(phone, 'GET', '/api/user')).status).toBe(200);
  });

  it('pages through older posts ten at a time', async () => {
    const page = await openTab(alice, world, '/');
    for (let i = 1; i <= 11; i += 1) expect((await callApi(page, 'POST', '/api/posts', { title: `Paged ${i}`, body: 'x' })).status).toBe(201);
    await page.reload();
    await page.getByRole('link', { name: 'Paged 11' }).waitFor();
    expect(await page.getByRole('link', { name: 'Paged 1', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Show older posts' }).click();
    await page.getByRole('link', { name: 'Paged 1', exact: true }).waitFor();
  });

  it('signing out in one tab tells the browser’s other tabs why', async () => {
    const context = await browser.newContext();
    const first = await signInTab(context, world, 'bob');
    const second = await openTab(context, world, '/sessions');
    await first.getByRole('button', { name: 'Sign out' }).click();
    const notice = second.getByTestId('signed-out');
    await notice.waitFor({ timeout: 3000 });
    expect(await notice.getAttribute('data-reason')).toBe('logout');
    expect(await notice.innerText()).toContain('You signed out');
  });

  it('fits a phone: no sideways scrolling, every control reachable', async () => {
    const page = await openTab(alice, world, '/');
    await page.setViewportSize({ width: 360, height: 740 });
    await page.getByRole('link', { name: 'Paged 11' }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'board-phone.png');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('Skip to content');
  });
});
