import { Router, type RequestHandler } from 'express';
import { decodeCursor, encodeCursor } from '../board/boardInput.js';
import { HttpError } from '../errors.js';
import { liveSessionOf } from '../sessions/requestSession.js';
import { auditCauses, type AuditCause } from './auditEntry.js';
import type { AuditTrail } from './auditTrail.js';

const PAGE_DEFAULT = 50;
const PAGE_MAX = 100;

/**
 * `GET /api/audit?user=<sub>&cause=<cause>&limit=<1-100>&cursor=<nextCursor>`: sign-outs, newest first.
 * A moderator sees everyone's (and may filter by `user`); anyone else sees only their own, and asking
 * for another user's is 403. Answers `{"entries": [...], "nextCursor": string | null}`.
 */
export function createAuditRouter(deps: { audit: AuditTrail; requireSession: RequestHandler; moderatorRole: string }): Router {
  const router = Router();

  router.get('/api/audit', deps.requireSession, async (req, res) => {
    const { auth } = liveSessionOf(res);
    const query = req.query as Record<string, unknown>;
    const fields: Record<string, string> = {};
    const text = (name: string) => {
      const value = query[name];
      if (value === undefined) return undefined;
      if (typeof value === 'string' && value.length > 0 && value.length <= 255) return value;
      fields[name] = 'must be given once, 1-255 characters';
      return undefined;
    };
    const user = text('user');
    const causeRaw = text('cause');
    if (causeRaw !== undefined && !(auditCauses as readonly string[]).includes(causeRaw)) fields.cause = `must be one of ${auditCauses.join(', ')}`;
    const limitRaw = text('limit');
    const limit = limitRaw === undefined ? PAGE_DEFAULT : /^\d{1,3}$/.test(limitRaw) ? Number(limitRaw) : NaN;
    if (!(limit >= 1 && limit <= PAGE_MAX)) fields.limit = `must be an integer from 1 to ${PAGE_MAX}`;
    const cursorRaw = text('cursor');
    const beforeId = cursorRaw === undefined ? undefined : decodeCursor(cursorRaw);
    if (cursorRaw !== undefined && beforeId === undefined) fields.cursor = 'must be a nextCursor value returned by this API';
    if (Object.keys(fields).length > 0) throw new HttpError(400, 'invalid_request', 'Invalid audit query', { fields });

    const moderator = auth.user.roles.includes(deps.moderatorRole);
    if (!moderator && user !== undefined && user !== auth.sub) {
      throw new HttpError(403, 'forbidden', `Reading another user's audit entries needs the ${deps.moderatorRole} role`);
    }
    const subject = moderator ? user : auth.sub;
    const rows = await deps.audit.list({
      user: subject === undefined ? undefined : { issuer: auth.issuer, sub: subject },
      cause: causeRaw as AuditCause | undefined,
      beforeId,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    res.json({
      entries: page.map((entry) => ({
        id: String(entry.id),
        at: entry.at,
        cause: entry.cause,
        user: { id: entry.user.sub, name: entry.user.name },
        sessionId: entry.sessionHandle,
        actor: entry.actor ? { id: entry.actor.sub, name: entry.actor.name } : null,
        replica: entry.replica,
      })),
      nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!.id) : null,
    });
  });

  return router;
}
