import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { createBoardRouter } from '../../../src/board/boardRoutes.js';
import type { BoardService } from '../../../src/board/boardService.js';
import { createErrorHandler } from '../../../src/http/errorHandler.js';
import { noStore } from '../../../src/http/noStore.js';
import { createLogger } from '../../../src/logger.js';
import type { AuthState } from '../../../src/sessions/authState.js';
import type { RequestSession } from '../../../src/sessions/requestSession.js';

/**
 * Router unit-test harness: the board router on a bare Express app with the real error handler and
 * simple stand-ins for the session guard and CSRF check (those are tested with the real app).
 */
export interface RouterHarness {
  url: string;
  close(): Promise<void>;
}

/** Stand-in session guard: `X-Test-User: <name>` picks a signed-in user from `users`. */
function standInSession(users: Record<string, AuthState>): RequestHandler {
  return (req, res, next) => {
    const auth = users[req.get('x-test-user') ?? ''];
    if (!auth) {
      res.status(401).json({ error: 'unauthorized', error_description: 'stand-in session guard: sign in first' });
      return;
    }
    const session: RequestSession = { state: 'live', sessionId: 'test-sid', sessionHandle: 'test-handle', auth };
    res.locals.session = session;
    next();
  };
}

/** Stand-in CSRF check: the custom header must be present. */
const standInCsrf: RequestHandler = (req, res, next) => {
  if (req.get('x-csrf') === '1') return next();
  res.status(403).json({ error: 'csrf_failed', error_description: 'missing X-CSRF header' });
};

export async function startRouterHarness(service: BoardService, users: Record<string, AuthState>): Promise<RouterHarness> {
  const app = express();
  app.use('/api', noStore); // as app.ts mounts it in front of every /api route
  app.use(createBoardRouter({ service, requireSession: standInSession(users), requireCsrf: standInCsrf }));
  app.use(createErrorHandler(createLogger({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
