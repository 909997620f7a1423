import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/loadConfig.js';
import type { Database } from '../../src/db/database.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { CLIENT_ID, CLIENT_SECRET } from '../../dev/oidcProvider.js';

export const TEST_SESSION_SECRET = 'test-session-secret-0123456789-abcdefghijklmnop';

export interface TestApp {
  url: string;
  services: Services;
  /** Every log line the app wrote, as JSON text. */
  logs: string[];
  close(): Promise<void>;
}

/** A loopback server with no handler yet: its port is known before the app and provider exist. */
export async function listenOnLoopback(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The real app (real config loader, services and Express app) on a loopback port. */
export async function startTestApp(options: {
  issuer: string;
  server?: Server;
  baseUrl?: string;
  env?: Record<string, string | undefined>;
  awaitSchema?: boolean;
  /** Wait until the app's Redis answers (not for an app pointed at a dead Redis on purpose). */
  awaitRedis?: boolean;
  /** How the embedded PGlite opens at its first use (createServices' option). */
  openEmbeddedDatabase?: () => Promise<Database>;
}): Promise<TestApp> {
  const server = options.server ?? (await listenOnLoopback());
  const url = urlOf(server);
  const config = loadConfig({
    OIDC_ISSUER: options.issuer,
    CLIENT_ID,
    CLIENT_SECRET,
    SESSION_SECRET: TEST_SESSION_SECRET,
    BASE_URL: options.baseUrl ?? url,
    LOG_LEVEL: 'info',
    LIVENESS_INTERVAL_SECONDS: '0',
    // Suites sign in far more often than a person, all from loopback: the rate limits have their own tests.
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_CALLBACK: '0',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const log = createLogger({ level: config.logLevel }, sink);
  const services = await createServices(config, log, options.openEmbeddedDatabase ? { openEmbeddedDatabase: options.openEmbeddedDatabase } : {});
  server.on('request', createApp(services));
  services.start();
  await withTimeout(services.oidc.whenReady(), 10_000, 'the app could not discover the test provider');
  // Sign-in is rate-limited through Redis and fails closed: a world's replicas wait for their connection.
  if (options.awaitRedis && services.readinessChecks.redis) await untilOk(services.readinessChecks.redis, 10_000, 'the app could not reach Redis');
  if (options.awaitSchema ?? true) {
    services.board.warm(); // the embedded database starts on first use: this is it
    await withTimeout(services.board.schema.ready, 30_000, 'the board schema did not migrate');
  }
  return {
    url,
    services,
    logs,
    async close() {
      await services.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function untilOk(check: () => Promise<unknown>, ms: number, message: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(message);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
