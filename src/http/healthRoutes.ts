import { Router } from 'express';
import type { Metrics } from './metrics.js';
import { noStore } from './noStore.js';

/**
 * Resolves when the dependency can serve, rejects when it cannot. A resolved word (the embedded
 * database's `standby` or `starting`) is reported in place of `up`, and counts as up.
 */
export type ReadinessCheck = () => Promise<void | string>;

/** `GET /healthz` (the process answers), `GET /readyz` (every dependency answers), `GET /metrics`. */
export function createHealthRouter(deps: { checks: Record<string, ReadinessCheck>; metrics: Metrics; timeoutMs: number }): Router {
  const router = Router();
  router.get('/healthz', noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', noStore, async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => [name, await settle(check, deps.timeoutMs)] as const),
    );
    const checks = Object.fromEntries(entries);
    const ready = entries.every(([, state]) => state !== 'down');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}

async function settle(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
  });
  try {
    return (await Promise.race([check(), timeout])) || 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
