import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { CodeCacheStatus } from './start/codeCache.js';
import { ConfigError, loadConfig } from './config/loadConfig.js';
import { createApp } from './http/app.js';
import { createGracefulShutdown } from './http/gracefulShutdown.js';
import { createLogger, type Logger } from './logger.js';
import { createServices } from './services.js';

/**
 * The process: configuration, services, the HTTP server, and a graceful stop on SIGTERM/SIGINT
 * (see gracefulShutdown.ts for the order). Start-up failures an operator must fix (a bad setting,
 * a port in use) print one line and exit 1 at once. Resolves once the app serves (the readiness
 * checks decide when /readyz says 200). Run by src/server.ts (tsx) and by the bundle's entry
 * (src/start/bundleEntry.ts, `npm start`), which says what became of the code cache (`codeCache`, logged).
 */
export async function main(start: { codeCache?: CodeCacheStatus } = {}): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`configuration error: ${err.message}`);
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  if (start.codeCache === 'accepted') log.info({ codeCache: start.codeCache }, 'compiled from the code cache');
  else if (start.codeCache) log.warn({ codeCache: start.codeCache }, 'compiled from source: the code cache was not used (start-up takes longer)');

  // Bound before anything slow starts (Redis, the database, PGlite's ~4 s): a port in use fails at
  // once. Until the app exists, every request gets 503 (and /readyz with it).
  let app: RequestListener | undefined;
  const server = createServer((req, res) => (app ? app(req, res) : starting(req, res)));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    fail(`cannot listen on ${config.host}:${config.port}: ${why}${code ? ` (${code})` : ''}`);
  }
  guardProcess(log);

  const services = await createServices(config, log);
  if (!config.redis.topology) {
    log.warn('No Redis is configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): sessions, revocations and events live in this process only (one replica, demo mode)');
  }
  if (config.session.secretGenerated) {
    log.warn('SESSION_SECRET is not set: using a random per-process secret; sessions end when the process restarts');
  }
  const shutdown = createGracefulShutdown({
    server,
    beginDrain: services.beginDrain,
    streamCount: () => services.sse.size,
    endStreams: () => services.sse.close(),
    closeServices: services.close,
    delayMs: config.shutdown.delaySeconds * 1000,
    graceMs: config.shutdown.graceSeconds * 1000,
    log,
  });
  app = createApp(services);
  services.start();
  const address = server.address();
  log.info({ port: typeof address === 'object' && address ? address.port : config.port, baseUrl: config.baseUrl.href }, 'listening');

  const stop = async (signal: string) => {
    // A last resort beyond the grace period (closing Redis or the pool hangs): exit anyway.
    const limitMs = (config.shutdown.delaySeconds + config.shutdown.graceSeconds) * 1000 + 5000;
    setTimeout(() => process.exit(1), limitMs).unref();
    process.exit(await shutdown(signal));
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The answer before the app exists: the process is alive (`/healthz`), nothing else is ready yet. */
function starting(req: IncomingMessage, res: ServerResponse): void {
  const alive = req.url === '/healthz';
  res.writeHead(alive ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...(alive ? {} : { 'Retry-After': '1' }) });
  res.end(JSON.stringify(alive ? { status: 'ok' } : { error: 'temporarily_unavailable', error_description: 'The service is starting; try again shortly' }));
}

function fail(line: string): never {
  process.stderr.write(`board-bff: ${line}\n`);
  process.exit(1);
}

/** One failed request must never take a replica down: log, keep serving. */
function guardProcess(log: Logger): void {
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception'));
}
