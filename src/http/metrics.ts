import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** One registry per app instance (tests run several in a process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'bff_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    sseStreams: new Gauge({ name: 'bff_sse_streams', help: 'Open SSE streams on this replica', registers: [registry] }),
    sseDropped: new Counter({ name: 'bff_sse_dropped_total', help: 'SSE streams dropped for not reading', registers: [registry] }),
    backchannel: new Counter({
      name: 'bff_backchannel_logout_total',
      help: 'Back-channel logout requests by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    adminActions: new Counter({
      name: 'bff_keycloak_admin_actions_total',
      help: 'Keycloak admin-URL actions (k_logout, k_push_not_before) by action and result',
      labelNames: ['action', 'result'] as const,
      registers: [registry],
    }),
    providerClockOffset: new Gauge({
      name: 'bff_oidc_clock_offset_seconds',
      help: "The OpenID Provider's clock minus ours, from the iat of the latest verified token (about -1 when they agree)",
      registers: [registry],
    }),
    revocations: new Counter({
      name: 'bff_sessions_revoked_total',
      help: 'Sessions revoked, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'bff_rate_limited_total',
      help: 'Requests refused with 429, by route (login, callback, backchannel)',
      labelNames: ['route'] as const,
      registers: [registry],
    }),
    refreshes: new Counter({
      name: 'bff_token_refresh_total',
      help: 'Token refresh attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
