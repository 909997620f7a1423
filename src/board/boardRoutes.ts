import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { HttpError } from '../errors.js';
import { liveSessionOf } from '../sessions/requestSession.js';
import { encodeCursor, parseComment, parseId, parseNewPost, parsePageRequest, parsePostPatch } from './boardInput.js';
import type { BoardService } from './boardService.js';

export interface BoardRouterDeps {
  service: BoardService;
  /** Sets `res.locals.session` to a live `RequestSession` or answers 401 itself. */
  requireSession: RequestHandler;
  /** Refuses cross-site state-changing requests. */
  requireCsrf: RequestHandler;
}

/**
 * Largest JSON body accepted: a 20,000-character post body can take ~120 kB when every character is
 * escaped as \uXXXX. Larger bodies are refused with 413 before they are buffered in full.
 */
const bodyLimit = '256kb';

/**
 * HTTP only: parse and validate at the edge, call the service, shape the response. Every route needs
 * a live session; writes also pass the CSRF check and must be `application/json` (else 415).
 */
export function createBoardRouter({ service, requireSession, requireCsrf }: BoardRouterDeps): Router {
  const router = Router();
  // body-parser's own errors (too large, malformed, bad charset) become 413/400/415 in the error handler.
  const write = [requireSession, requireCsrf, requireJson, express.json({ limit: bodyLimit, strict: true })];
  const remove = [requireSession, requireCsrf];

  router.get('/api/posts', requireSession, async (req, res) => {
    const page = parsePageRequest(req.query as Record<string, unknown>);
    const result = await service.listPosts(liveSessionOf(res).auth, page);
    const nextCursor = result.nextBeforeId === null ? null : encodeCursor(result.nextBeforeId);
    res.json({ posts: result.posts, nextCursor, hasMore: nextCursor !== null });
  });

  router.get('/api/posts/:id', requireSession, async (req, res) => {
    res.json({ post: await service.getPost(liveSessionOf(res).auth, parseId(req.params.id)) });
  });

  router.post('/api/posts', ...write, async (req, res) => {
    const post = await service.createPost(liveSessionOf(res).auth, parseNewPost(req.body));
    res.status(201).location(`/api/posts/${post.id}`).json({ post });
  });

  router.patch('/api/posts/:id', ...write, async (req, res) => {
    const id = parseId(req.params.id);
    res.json({ post: await service.updatePost(liveSessionOf(res).auth, id, parsePostPatch(req.body)) });
  });

  router.delete('/api/posts/:id', ...remove, async (req, res) => {
    await service.deletePost(liveSessionOf(res).auth, parseId(req.params.id));
    res.status(204).end();
  });

  router.post('/api/posts/:id/comments', ...write, async (req, res) => {
    const postId = parseId(req.params.id);
    const comment = await service.addComment(liveSessionOf(res).auth, postId, parseComment(req.body));
    res.status(201).json({ comment });
  });

  router.patch('/api/comments/:id', ...write, async (req, res) => {
    const id = parseId(req.params.id);
    res.json({ comment: await service.updateComment(liveSessionOf(res).auth, id, parseComment(req.body)) });
  });

  router.delete('/api/comments/:id', ...remove, async (req, res) => {
    await service.deleteComment(liveSessionOf(res).auth, parseId(req.params.id));
    res.status(204).end();
  });

  return router;
}

function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (req.is('application/json')) return next();
  next(new HttpError(415, 'unsupported_media_type', 'send the request body as JSON with Content-Type: application/json'));
}
