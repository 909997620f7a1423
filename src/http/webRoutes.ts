import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';

/**
 * The built board app on the BFF's own origin (the classic BFF arrangement: with the default
 * FRONTEND_URL = BASE_URL the browser lands on the app after sign-in). Files from `dir`, and
 * `index.html` for any other page path a browser navigates to (`/posts/7`), so client-side routes
 * survive a reload; `/api` and `/auth` never fall through to it. Nothing is served when `dir` has
 * no index.html (the app was not built): those requests get the usual JSON 404. `onPage` runs at
 * each page served (the embedded database starts then, while the person signs in).
 */
export function createWebRouter(dir: string | undefined, onPage?: () => void): Router {
  const router = Router();
  const index = dir === undefined ? undefined : join(dir, 'index.html');
  if (dir === undefined || index === undefined || !existsSync(index)) return router;
  // File names are not content-hashed: revalidate every time (cheap: ETag / Last-Modified).
  router.use(express.static(dir, { index: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  router.get(/^\/(?!api\/|auth\/|assets\/)[^.]*$/, (req, res, next) => {
    // Page navigations only (they send text/html explicitly); API callers keep their JSON 404.
    if (!/\btext\/html\b/.test(req.get('accept') ?? '')) return next();
    onPage?.();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
