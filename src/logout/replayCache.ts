import { createHash } from 'node:crypto';
import type { Kv } from '../storage/kv.js';

/** Remembers logout-token `jti`s per issuer, shared by every replica, until the token could no longer verify. */
export interface ReplayCache {
  /** False when this (issuer, jti) was seen before. */
  remember(issuer: string, jti: string, untilMs: number): Promise<boolean>;
  /** Undoes `remember` when processing failed, so the provider's retry is not taken for a replay. */
  forget(issuer: string, jti: string): Promise<void>;
}

export function createReplayCache(kv: Kv, prefix: string, now: () => number = Date.now): ReplayCache {
  const key = (issuer: string, jti: string) =>
    `${prefix}jti:${createHash('sha256').update(`${issuer}\n${jti}`).digest('base64url').slice(0, 32)}`;
  return {
    remember: (issuer, jti, untilMs) => kv.set(key(issuer, jti), '1', Math.max(untilMs - now(), 1000), true),
    forget: (issuer, jti) => kv.del(key(issuer, jti)),
  };
}
