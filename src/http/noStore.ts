import type { RequestHandler } from 'express';

/**
 * `Cache-Control: no-store` on the answer: for everything that depends on who asks (a session, the
 * sign-in flow, a per-viewer body) or on the moment (health, logout endpoints, errors).
 */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
