import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { logTail } from './logTail.js';
import { stopProcess } from './stopProcess.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  logFile: string;
  /** SIGTERM (the graceful path), SIGKILL if it has not exited after 15 s. */
  stop(): Promise<void>;
}

/**
 * The app as it runs in production: its own process, configured only through the environment
 * (plus PATH and HOME), output to `logFile`. Resolves once `/readyz` answers 200; a process that
 * exits or never becomes ready fails with the tail of its log.
 */
export async function startServerProcess(options: {
  /** `src` runs the TypeScript through tsx; `dist` runs the build (`npm run build` first). */
  entry: 'src' | 'dist';
  url: string;
  env: Record<string, string>;
  logFile: string;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** Another checkout to run (a benchmark's baseline build); this repository by default. */
  root?: string;
}): Promise<ServerProcess> {
  const { port } = new URL(options.url);
  const entry = options.entry === 'src' ? ['--import', 'tsx', 'src/server.ts'] : ['dist/server.js'];
  const log = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
    cwd: options.root ?? ROOT,
    stdio: ['ignore', log, log],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      BASE_URL: options.url,
      ...options.env,
      PORT: port,
      HOST: '127.0.0.1',
    },
  });
  const server: ServerProcess = { url: options.url, child, logFile: options.logFile, stop: () => stopProcess(child, 15_000) };
  try {
    await waitReady(server, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function waitReady(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`the server exited (${server.child.exitCode ?? server.child.signalCode}):\n${logTail(server.logFile, 30)}`);
    }
    try {
      const response = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`not ready at ${server.url}/readyz: ${last}\n${logTail(server.logFile, 30)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
