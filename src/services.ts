import type { Redis } from 'ioredis';
import type { Config } from './config/loadConfig.js';
import type { Logger } from './logger.js';
import { createAuditRepository } from './audit/auditRepository.js';
import { createAuditTrail, type AuditTrail } from './audit/auditTrail.js';
import { createLoginStateSealer, type LoginStateSealer } from './auth/loginState.js';
import type { ProvisionUser } from './auth/completeLogin.js';
import { createBoard, type Board } from './board/board.js';
import type { Database } from './db/database.js';
import type { EventBus } from './events/eventBus.js';
import { createMemoryBus } from './events/memoryBus.js';
import { createRedisBus } from './events/redisBus.js';
import { createSseHub, type SseHub } from './events/sseHub.js';
import type { ReadinessCheck } from './http/healthRoutes.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createRateLimits, type RateLimits } from './http/rateLimit.js';
import { createBackchannelLogout, type BackchannelLogout } from './backchannel/backchannelLogout.js';
import { createAdminActions, type ApplyAdminAction } from './backchannel/adminActions.js';
import { createIssuerNotBefore, type IssuerNotBefore } from './backchannel/notBefore.js';
import { createReplayCache } from './backchannel/replayCache.js';
import { createUserRecheck } from './backchannel/userRecheck.js';
import { createOidcClient, type OidcClient } from './oidc/oidcClient.js';
import { createLivenessMonitor, type LivenessMonitor } from './sessions/livenessMonitor.js';
import { createLivenessSchedule, type LivenessSchedule } from './sessions/livenessSchedule.js';
import { createRefreshTokens, type RefreshTokens } from './sessions/refreshTokens.js';
import { createProviderSessionEnds } from './sessions/providerSessionEnds.js';
import { createRevocationOf } from './sessions/revocationOf.js';
import { createRevokeSessions, type RevokeSessions } from './sessions/revokeSessions.js';
import { createSessionIndex, type SessionIndex } from './sessions/sessionIndex.js';
import { createSessionStore, type SessionStore } from './sessions/sessionStore.js';
import { createTombstones } from './sessions/tombstones.js';
import { createRedisTombstoneThenTell, tombstoneThenTellInTurn } from './sessions/tombstoneThenTell.js';
import { createMemoryKv } from './storage/memoryKv.js';
import { createRedisClient, createRedisSubscriber, type RedisConnection } from './storage/redisClient.js';
import { createRedisKv } from './storage/redisKv.js';

export interface Services {
  config: Config;
  log: Logger;
  metrics: Metrics;
  bus: EventBus;
  oidc: OidcClient;
  store: SessionStore;
  index: SessionIndex;
  schedule: LivenessSchedule;
  sealer: LoginStateSealer;
  revoke: RevokeSessions;
  refresh: RefreshTokens;
  liveness: LivenessMonitor;
  backchannelLogout: BackchannelLogout;
  adminActions: ApplyAdminAction;
  notBefore: IssuerNotBefore;
  sse: SseHub;
  board: Board;
  audit: AuditTrail;
  rateLimits: RateLimits;
  provisionUser: ProvisionUser;
  readinessChecks: Record<string, ReadinessCheck>;
  /** Starts background work (the liveness monitor). */
  start(): void;
  /** Shutdown has begun: readiness reads `accepting: down` from now on. */
  beginDrain(): void;
  /** Ends streams and background work, then closes Redis and the database. */
  close(): Promise<void>;
}

/**
 * Builds every long-lived part from the configuration, choosing Redis or the in-process twins.
 * The only place that knows which implementation is behind each interface. `openEmbeddedDatabase`
 * replaces how the embedded PGlite is opened at its first use (tests of a slow or failing start).
 */
export async function createServices(config: Config, log: Logger, options: { openEmbeddedDatabase?: () => Promise<Database> } = {}): Promise<Services> {
  const metrics = createMetrics();
  const { prefix } = config.redis;
  let redis: RedisConnection | undefined;
  let subscriber: Redis | undefined;
  const { topology } = config.redis;
  if (topology) {
    redis = createRedisClient({ ...config.redis, topology }, log, 'commands');
    subscriber = createRedisSubscriber({ ...config.redis, topology }, log, redis);
  }
  const kv = redis ? createRedisKv(redis) : createMemoryKv();
  const bus = redis && subscriber ? createRedisBus(redis, subscriber, prefix, log) : createMemoryBus(log);

  const oidc = createOidcClient(config.oidc, log, { onClockOffset: (seconds) => metrics.providerClockOffset.set(seconds) });
  const tombstones = createTombstones(kv, prefix);
  const notBefore = createIssuerNotBefore(kv, prefix, config.session.absoluteSeconds * 1000);
  const providerSessionEnds = createProviderSessionEnds(kv, prefix, config.session.absoluteSeconds * 1000);
  const store = createSessionStore({
    redis,
    prefix,
    idleSeconds: config.session.idleSeconds,
    tombstones,
    kv,
    notBefore: () => notBefore.get(config.oidc.issuer),
    // `revoke` is built from the store below; a write calls this only once everything is built.
    providerSessionEnd: { ends: providerSessionEnds, end: (sessionId) => revoke([sessionId], 'backchannel_logout') },
  });
  const index = createSessionIndex(kv, prefix);
  const schedule = createLivenessSchedule(kv, prefix);
  const rateLimits = createRateLimits({ settings: config.rateLimit, redis, prefix, log, onLimited: (route) => metrics.rateLimited.inc({ route }) });
  const board = await createBoard({
    database: config.database,
    moderatorRole: config.board.moderatorRole,
    events: bus,
    log,
    ...(options.openEmbeddedDatabase ? { openEmbedded: options.openEmbeddedDatabase } : {}),
  });
  const audit = createAuditTrail({
    repository: createAuditRepository(board.db),
    isSchemaReady: board.schema.isReady,
    replica: config.replicaName,
    retentionDays: config.audit.retentionDays,
    log,
  });
  const revoke = createRevokeSessions({
    store,
    index,
    schedule,
    tombstoneThenTell: redis && subscriber ? createRedisTombstoneThenTell(redis, prefix) : tombstoneThenTellInTurn(tombstones, bus),
    absoluteLifetimeMs: config.session.absoluteSeconds * 1000,
    log,
    onRevoked: (reason, count) => metrics.revocations.inc({ reason }, count),
    onSessionRevoked: (revoked) => audit.record(revoked),
  });
  const refresh = createRefreshTokens({
    oidc,
    store,
    tombstones,
    kv,
    prefix,
    revoke,
    rolesClaim: config.oidc.rolesClaim,
    skewMs: config.session.refreshSkewSeconds * 1000,
    lockMs: config.oidc.httpTimeoutMs * 2 + 1000,
    log,
    onOutcome: (outcome) => metrics.refreshes.inc({ outcome }),
  });
  const liveness = createLivenessMonitor({
    schedule,
    store,
    refresh,
    revoke,
    intervalMs: config.session.livenessIntervalSeconds * 1000,
    log,
  });
  const sse = createSseHub({
    bus,
    heartbeatMs: config.sse.heartbeatSeconds * 1000,
    retryMs: config.sse.retryMs,
    maxBufferedBytes: config.sse.maxBufferedBytes,
    revocationOf: createRevocationOf({ tombstones, store }),
    tombstoneOf: (sessionId) => tombstones.get(sessionId),
    log,
    onStreamsChanged: (count) => metrics.sseStreams.set(count),
    onDropped: () => metrics.sseDropped.inc(),
  });
  const userRecheck = createUserRecheck({ index, liveness, delayMs: config.oidc.logoutRecheckDelayMs, log });
  const backchannelLogout = createBackchannelLogout({
    oidc,
    clientId: config.oidc.clientId,
    algorithm: config.oidc.idTokenAlg,
    clockToleranceSeconds: config.oidc.clockToleranceSeconds,
    replay: createReplayCache(kv, prefix),
    index,
    ends: providerSessionEnds,
    revoke,
    recheck: userRecheck,
    log,
  });
  const adminActions = createAdminActions({
    oidc,
    clientId: config.oidc.clientId,
    algorithm: config.oidc.adminActionAlg,
    clockToleranceSeconds: config.oidc.clockToleranceSeconds,
    replay: createReplayCache(kv, prefix, 'admin'),
    notBefore,
    index,
    ends: providerSessionEnds,
    store,
    revoke,
    log,
  });

  let draining = false;
  const readinessChecks: Record<string, ReadinessCheck> = {
    accepting: async () => {
      if (draining) throw new Error('shutting down');
    },
    provider: async () => {
      if (!oidc.isReady()) throw new Error('discovery has not succeeded yet');
    },
    database: () => board.ready(),
  };
  if (redis) {
    readinessChecks.redis = () => kv.ping();
    readinessChecks.redisSubscriber = () => bus.ping();
  }

  return {
    config,
    log,
    metrics,
    bus,
    oidc,
    store,
    index,
    schedule,
    sealer: createLoginStateSealer(config.session.secrets),
    revoke,
    refresh,
    liveness,
    backchannelLogout,
    adminActions,
    notBefore,
    sse,
    board,
    audit,
    rateLimits,
    provisionUser: (identity) => board.users.provisionUser(identity),
    readinessChecks,
    start() {
      liveness.start();
      audit.start();
    },
    beginDrain() {
      draining = true;
    },
    async close() {
      sse.close();
      oidc.stop();
      userRecheck.stop();
      await liveness.stop();
      await bus.close();
      await audit.stop();
      await board.close();
      // QUIT lets replies still in flight arrive; a Redis that does not answer is simply dropped.
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
