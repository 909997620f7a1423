import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { createBoardRouter } from '../../../src/board/boardRoutes.js';
import type { BoardService } from '../../../src/board/boardService.js';
import { createCsrfGuard } from '../../../src/http/csrf.js';
import { createErrorHandler } from '../../../src/http/errorHandler.js';
import { noStore } from '../../../src/http/noStore.js';
import { createLogger } from '../../../src/logger.js';
import type { AuthState } from '../../../src/sessions/authState.js';
import type { RequestSession } from '../../../src/sessions/requestSession.js';

/**
 * Router unit-test harness: the board router on a bare Express app with the real CSRF guard (its
 * own origin allowed) and error handler, and a stand-in for the session guard (tested with the real
 * app).
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

export async function startRouterHarness(service: BoardService, users: Record<string, AuthState>): Promise<RouterHarness> {
  const app = express();
  app.use('/api', noStore); // as app.ts mounts it in front of every /api route
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Mounted once the port (hence the origin to allow) is known; Express reads its stack per request.
  const { requireCsrf } = createCsrfGuard([url]);
  app.use(createBoardRouter({ service, requireSession: standInSession(users), requireCsrf }));
  app.use(createErrorHandler(createLogger({ level: 'silent' })));
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
