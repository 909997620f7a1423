import type { ServerResponse } from 'node:http';
import { BlockList, isIPv4 } from 'node:net';
import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitSettings } from '../config/rateLimitConfig.js';
import { describeError, type Logger } from '../logger.js';
import { redisKeys } from '../storage/keys.js';
import type { RedisConnection } from '../storage/redisClient.js';
import { HttpError, unavailable } from '../errors.js';

export interface RateLimits {
  /** `GET /auth/login`, per client address. Fails closed: 503 when the count cannot be kept. */
  login: RequestHandler;
  /** `GET /auth/callback`, per client address. Fails closed. */
  callback: RequestHandler;
  /**
   * `POST /auth/backchannel-logout`, per client address, counting only refused (400) tokens: a valid
   * logout token is never refused, whoever relays it; an address that keeps sending invalid ones is.
   * The provider's own addresses are never limited. Fails open: a limiter that cannot count lets the
   * logout token through. On Node's own response, called by the endpoint's handler
   * (src/backchannel/backchannelHandler.ts): `ip` is the client's address as Express's `req.ip`
   * gives it (TRUST_PROXY applied). Resolves to let the request through, rejects with the 429.
   */
  backchannelGate: (ip: string | undefined, res: ServerResponse) => Promise<void>;
}

type Route = 'login' | 'callback' | 'backchannel';

/**
 * Fixed-window request limits per client address (`req.ip`, so `TRUST_PROXY` decides which address
 * that is), counted in Redis so the limit holds across every replica together (`rate-limiter-flexible`,
 * one key and one Lua script per request: Cluster-safe); in-process without Redis.
 *
 * When the counter cannot be read (Redis down, a command timed out):
 * - sign-in routes fail **closed** (503): a sign-in cannot complete without Redis anyway (the session
 *   is stored there), so refusing costs nothing, while letting a flood through would hand the provider
 *   every request an attacker makes during an outage;
 * - the back-channel fails **open**: a logout token makes sessions end, the provider does not retry
 *   (Keycloak never does), and refusing it would keep alive a session its user meant to end. The
 *   endpoint still answers 503 by itself if the revocation cannot be stored.
 * Over the limit: `429 {"error":"rate_limited", ...}` with `Retry-After` in seconds.
 */
export function createRateLimits(deps: {
  settings: RateLimitSettings;
  redis: RedisConnection | undefined;
  prefix: string;
  log: Logger;
  onLimited?: (route: Route) => void;
}): RateLimits {
  const { settings } = deps;
  const keys = redisKeys(deps.prefix);
  const providers = new BlockList();
  for (const entry of settings.providerAddresses) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (bits === undefined) providers.addAddress(address, family);
    else providers.addSubnet(address, Number(bits), family);
  }
  // BlockList.check makes a SocketAddress of each address it is given (~1.3 % of a logout token's
  // CPU, perf profile of the replica, README "Performance", fifth pass): skipped when none is listed.
  const isProvider =
    settings.providerAddresses.length === 0 ? () => false : (address: string) => providers.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');

  /** The route's limiter, counting per client address under `keys.rateLimit(route, address)`. */
  const limiterFor = (route: Route, points: number) => {
    // The whole key comes from redisKeys; an empty keyPrefix keeps the limiter from adding its own.
    const options = { keyPrefix: '', points, duration: settings.windowSeconds };
    const redis = deps.redis;
    const limiter: RateLimiterAbstract = redis
      ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true })
      : new RateLimiterMemory(options);
    return {
      consume: (address: string) => limiter.consume(keys.rateLimit(route, address)),
      penalty: (address: string, points: number) => limiter.penalty(keys.rateLimit(route, address), points),
      /**
       * The window's outcome when `address` has used all its points, else null. On Redis the check is
       * one GET of the counter (the limiter keeps the points consumed there as an integer; the
       * back-channel flood case of test/scale/rateLimit.test.ts fails if that changes): it joins
       * the auto-pipelined batch of the other requests' commands, where the limiter's own read is a
       * MULTI of GET and PTTL written on its own (4 commands and a socket write per request).
       * Measured (README "Performance", fourth pass): CPU per valid logout token 0.81× (448 → 361 µs,
       * paired A/B of the built server, 7 rounds; reproduce: `BENCH_PAIRED=1 npx tsx
       * test/bench/abBuilds.ts <checkout before, built> . 7 3`). The limiter's own read runs only past
       * the limit, for the window's time left (Retry-After).
       */
      async exhausted(address: string): Promise<RateLimiterRes | null> {
        if (redis && Number(await redis.get(keys.rateLimit(route, address))) < points) return null;
        const outcome = await limiter.get(keys.rateLimit(route, address));
        return outcome && outcome.consumedPoints >= points ? outcome : null;
      },
    };
  };

  const tooMany = (route: Route, outcome: RateLimiterRes): HttpError => {
    deps.onLimited?.(route);
    const retryAfter = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
    return new HttpError(429, 'rate_limited', `Too many requests from this address; try again in ${retryAfter} s`, {
      headers: { 'Retry-After': String(retryAfter) },
    });
  };

  const handler = (route: Route, points: number, failOpen: boolean, exempt: (address: string) => boolean = () => false): RequestHandler => {
    if (points === 0) return (_req, _res, next) => next();
    const limiter = limiterFor(route, points);
    return async (req, _res, next) => {
      const address = clientAddress(req.ip);
      if (exempt(address)) return next();
      try {
        await limiter.consume(address);
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) throw tooMany(route, outcome);
        deps.log.warn({ route, failOpen, err: describeError(outcome) }, 'rate limiter could not count a request');
        if (failOpen) return next();
        throw unavailable('Redis');
      }
      next();
    };
  };

  // Keycloak sends logout tokens in bursts (a realm-wide sign-out) from addresses an operator may not
  // know (node SNAT, a proxy hop), and never retries: only refused tokens count, so the limit bites
  // an address that sends garbage and never the provider's valid tokens.
  const refusedOnly = (route: Route, points: number, exempt: (address: string) => boolean): RateLimits['backchannelGate'] => {
    if (points === 0) return async () => undefined;
    const limiter = limiterFor(route, points);
    return async (ip, res) => {
      const address = clientAddress(ip);
      if (exempt(address)) return;
      let spent: RateLimiterRes | null = null;
      try {
        spent = await limiter.exhausted(address);
      } catch (err) {
        deps.log.warn({ route, failOpen: true, err: describeError(err) }, 'rate limiter could not count a request');
      }
      if (spent) throw tooMany(route, spent);
      res.once('finish', () => {
        if (res.statusCode !== 400) return;
        limiter.penalty(address, 1).catch((err: unknown) => {
          deps.log.warn({ route, err: describeError(err) }, 'rate limiter could not count a refused request');
        });
      });
    };
  };

  return {
    login: handler('login', settings.login, false),
    callback: handler('callback', settings.callback, false),
    backchannelGate: refusedOnly('backchannel', settings.backchannel, isProvider),
  };
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client, and match an IPv4 allow-list entry. */
function clientAddress(ip: string | undefined): string {
  const address = ip ?? 'unknown';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
