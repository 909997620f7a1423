import { ISO_FORMAT } from '../board/boardRepository.js';
import type { Queryable } from '../db/database.js';
import type { AuditCause, AuditEntry } from './auditEntry.js';

export interface AuditQuery {
  /** Only this user's entries (issuer + subject). */
  user: { issuer: string; sub: string } | undefined;
  cause: AuditCause | undefined;
  /** Entries strictly older (smaller id) than this one. */
  beforeId: number | undefined;
  limit: number;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

export interface AuditRepository {
  /** One multi-row INSERT. */
  insert(entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<StoredAuditEntry[]>;
  /** Deletes entries older than `days`; returns how many. */
  purgeOlderThan(days: number): Promise<number>;
}

interface AuditRow {
  id: number | string;
  at: string;
  cause: AuditCause;
  user_issuer: string;
  user_subject: string;
  user_name: string;
  session_handle: string;
  actor_subject: string | null;
  actor_name: string | null;
  replica: string;
}

export function createAuditRepository(db: Queryable): AuditRepository {
  return {
    async insert(entries) {
      if (entries.length === 0) return;
      const columns = 9;
      const values = entries.map((_, row) => `(${Array.from({ length: columns }, (_, col) => `$${row * columns + col + 1}`).join(', ')})`);
      const params = entries.flatMap((e) => [
        e.at,
        e.cause,
        e.user.issuer,
        e.user.sub,
        e.user.name,
        e.sessionHandle,
        e.actor?.sub ?? null,
        e.actor?.name ?? null,
        e.replica,
      ]);
      await db.query(
        `INSERT INTO audit_log (at, cause, user_issuer, user_subject, user_name, session_handle, actor_subject, actor_name, replica)
         VALUES ${values.join(', ')}`,
        params,
      );
    },
    async list(query) {
      const where: string[] = [];
      const params: unknown[] = [];
      const param = (value: unknown) => `$${params.push(value)}`;
      if (query.user) where.push(`user_issuer = ${param(query.user.issuer)} AND user_subject = ${param(query.user.sub)}`);
      if (query.cause) where.push(`cause = ${param(query.cause)}`);
      if (query.beforeId !== undefined) where.push(`id < ${param(query.beforeId)}`);
      const { rows } = await db.query<AuditRow>(
        `SELECT id, to_char(at AT TIME ZONE 'UTC', '${ISO_FORMAT}') AS at, cause, user_issuer, user_subject, user_name,
                session_handle, actor_subject, actor_name, replica
           FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id DESC LIMIT ${param(query.limit)}`,
        params,
      );
      return rows.map((row) => ({
        id: Number(row.id),
        at: row.at,
        cause: row.cause,
        user: { issuer: row.user_issuer, sub: row.user_subject, name: row.user_name },
        sessionHandle: row.session_handle,
        actor: row.actor_subject === null ? null : { sub: row.actor_subject, name: row.actor_name ?? '' },
        replica: row.replica,
      }));
    },
    async purgeOlderThan(days) {
      const { rowCount } = await db.query('DELETE FROM audit_log WHERE at < now() - make_interval(days => $1)', [days]);
      return rowCount;
    },
  };
}
