import { createServer, type Server } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createLogger, type Logger } from './logger.js';
import { createServices } from './services.js';

/**
 * The process: configuration, services, the HTTP server, and a graceful stop on SIGTERM/SIGINT
 * (stop accepting, end SSE streams so clients reconnect elsewhere, drain, close connections).
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`board-bff: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  const services = await createServices(config, log);
  if (!config.redis.topology) {
    log.warn('No Redis is configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): sessions, revocations and events live in this process only (one replica, demo mode)');
  }
  if (config.session.secretGenerated) {
    log.warn('SESSION_SECRET is not set: using a random per-process secret; sessions end when the process restarts');
  }

  const server = createServer(createApp(services));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  guardProcess(log);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  services.start();
  const address = server.address();
  log.info({ port: typeof address === 'object' && address ? address.port : config.port, baseUrl: config.baseUrl.href }, 'listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), config.shutdownGraceSeconds * 1000 + 1000);
    deadline.unref();
    await closeServer(server, services.close);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function closeServer(server: Server, closeServices: () => Promise<void>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closeServices();
  await closed;
}

/** One failed request must never take a replica down: log, keep serving. */
function guardProcess(log: Logger): void {
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception'));
}

await main();
