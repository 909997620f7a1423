import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/**
 * Headless Debian Chromium driven by playwright-core. Playwright's own browser download cannot work on
 * these machines (only package registries are reachable), so the system package is used and a missing
 * one fails loudly instead of skipping.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? process.env.CHROME_PATH ?? '/usr/bin/chromium';

/**
 * Flags that keep Chromium off the network: without the background-networking ones it opens many
 * connections to Google's hosts, which this machine's closed network refuses (and logs) at every start.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // we run as root; the setuid sandbox refuses to start as root
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-features=Translate,OptimizationHints,MediaRouter,PasswordLeakDetection',
];

export function assertChromiumInstalled(path = CHROMIUM_PATH): void {
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}: install the Debian package (apt-get install -y chromium) ` +
        'or point CHROMIUM_PATH at a Chromium/Chrome binary. The end-to-end suite cannot run without it.',
    );
  }
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh, isolated profile: its own cookies, so two contexts are two independent "devices". */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * One Chromium per test file. Playwright's launch already gives the browser a fresh temporary profile
 * (it refuses `--user-data-dir` in `args`), and each `newContext()` is an isolated incognito-like
 * profile with its own cookie jar: two contexts are two independent "devices".
 */
export async function launchBrowser(): Promise<TestBrowser> {
  assertChromiumInstalled();
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (error) {
    throw new Error(`Chromium at ${CHROMIUM_PATH} failed to start: ${(error as Error).message}`);
  }
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async newContext() {
      const context = await browser.newContext({ locale: 'en-US' });
      contexts.push(context);
      return context;
    },
    async close() {
      await Promise.allSettled(contexts.map((c) => c.close()));
      await browser.close().catch(() => undefined);
    },
  };
}
