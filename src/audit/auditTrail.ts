import { HttpError, unavailable } from '../errors.js';
import { describeError, type Logger } from '../logger.js';
import type { RevokedSession } from '../sessions/revokeSessions.js';
import { auditEntryOf, type AuditEntry } from './auditEntry.js';
import type { AuditQuery, AuditRepository, StoredAuditEntry } from './auditRepository.js';

export interface AuditTrail {
  /**
   * Records a revoked session: a structured log line at once, and a row in PostgreSQL shortly after
   * (batched). Never throws and never waits: a slow or absent database must not hold up a sign-out.
   */
  record(revoked: RevokedSession): void;
  list(query: AuditQuery): Promise<StoredAuditEntry[]>;
  /** Writes whatever is buffered now (tests, shutdown); rejects if the database refuses. */
  flush(): Promise<void>;
  /** Starts the retention sweep (hourly) and the writer. */
  start(): void;
  /** Stops timers and makes one last attempt to write the buffer. */
  stop(): Promise<void>;
}

export interface AuditTrailDeps {
  repository: AuditRepository;
  /** False until the schema (migration 2) is in place: entries wait in the buffer meanwhile. */
  isSchemaReady: () => boolean;
  replica: string;
  retentionDays: number;
  log: Logger;
  /** Entries kept in memory while the database is away; the oldest are dropped beyond this (each still logged). */
  maxBuffered?: number;
  flushDelayMs?: number;
}

const BATCH = 200;

/**
 * The sign-out audit trail. Every entry goes to the log first (`audit` object, message
 * "sign-out audited"), so it survives a database outage; rows are written in batches a moment later
 * and retried until PostgreSQL takes them. Entries older than `retentionDays` are deleted hourly by
 * whichever replica gets there (the DELETE is idempotent).
 */
export function createAuditTrail(deps: AuditTrailDeps): AuditTrail {
  const log = deps.log.child({ component: 'audit' });
  const maxBuffered = deps.maxBuffered ?? 10_000;
  const flushDelayMs = deps.flushDelayMs ?? 200;
  let buffer: AuditEntry[] = [];
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let failures = 0;

  const write = async (): Promise<void> => {
    while (buffer.length > 0) {
      if (!deps.isSchemaReady()) throw unavailable('database (audit table not migrated yet)');
      const batch = buffer.slice(0, BATCH);
      try {
        await deps.repository.insert(batch);
      } catch (err) {
        // An outage is retried; a refusal (a constraint, a bug) would refuse forever and block every
        // later entry: drop that batch, whose entries are in the log already.
        if (err instanceof HttpError && err.status === 503) throw err;
        log.error({ dropped: batch.length, err: describeError(err) }, 'audit entries refused by the database; they remain in the log only');
      }
      buffer = buffer.slice(batch.length);
    }
  };

  const flush = (): Promise<void> => {
    writing ??= write()
      .then(() => {
        if (failures > 0) log.info({ after: failures }, 'audit entries stored again');
        failures = 0;
      })
      .finally(() => (writing = undefined));
    return writing;
  };

  const schedule = (delayMs: number) => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush().catch((err) => {
        if (failures++ === 0) log.warn({ buffered: buffer.length, err: describeError(err) }, 'audit entries not stored yet; retrying');
        schedule(Math.min(flushDelayMs * 2 ** Math.min(failures, 6), 30_000));
      });
    }, delayMs);
    timer.unref();
  };

  const sweep = async () => {
    if (!deps.isSchemaReady()) return;
    const removed = await deps.repository.purgeOlderThan(deps.retentionDays);
    if (removed > 0) log.info({ removed, retentionDays: deps.retentionDays }, 'old audit entries removed');
  };

  return {
    record(revoked) {
      const entry = auditEntryOf(revoked, deps.replica);
      // `session`, not `sessionId`: the logger redacts fields named like session ids; this is the public handle.
      // No display name: it falls back to preferred_username, which is an e-mail address in many realms.
      log.info(
        { audit: { cause: entry.cause, user: entry.user.sub, session: entry.sessionHandle, actor: entry.actor?.sub ?? null, replica: entry.replica, at: entry.at } },
        'sign-out audited',
      );
      buffer.push(entry);
      if (buffer.length > maxBuffered) {
        buffer.splice(0, buffer.length - maxBuffered);
        log.warn({ maxBuffered }, 'audit buffer full: oldest entries kept only in the log');
      }
      schedule(flushDelayMs);
    },
    async list(query) {
      if (!deps.isSchemaReady()) throw unavailable('database');
      return deps.repository.list(query);
    },
    flush,
    start() {
      const run = () => sweep().catch((err) => log.warn({ err: describeError(err) }, 'audit retention sweep failed'));
      sweeper = setInterval(run, 3600_000);
      sweeper.unref();
      setTimeout(run, 60_000).unref();
    },
    async stop() {
      clearInterval(sweeper);
      clearTimeout(timer);
      timer = undefined;
      await flush().catch((err) => log.warn({ lost: buffer.length, err: describeError(err) }, 'audit entries not stored at shutdown (they are in the log)'));
    },
  };
}
