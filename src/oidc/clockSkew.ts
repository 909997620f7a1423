import type { Logger } from '../logger.js';

export interface ClockSkewMonitor {
  /** Reports the `iat` (epoch seconds) of a token the provider just issued and whose signature verified. */
  observe(issuedAtSeconds: number): void;
}

/**
 * Measures the provider's clock against ours from the `iat` of fresh tokens (ID tokens at sign-in
 * and refresh, logout tokens): offset = iat − now, in seconds, positive when the provider runs
 * ahead. Each measurement goes to `onOffset` (the `bff_oidc_clock_offset_seconds` gauge); past
 * `toleranceSeconds` either way, tokens start being refused ("iat in the future", "expired"), so a
 * warning is logged, at most once per `warnIntervalMs`. The offset includes the token's transit
 * time and `iat`'s truncation to whole seconds: about −1 s when the clocks agree.
 */
export function createClockSkewMonitor(deps: {
  toleranceSeconds: number;
  log: Logger;
  onOffset?: (offsetSeconds: number) => void;
  warnIntervalMs?: number;
  now?: () => number;
}): ClockSkewMonitor {
  const now = deps.now ?? Date.now;
  const warnIntervalMs = deps.warnIntervalMs ?? 60_000;
  let lastWarning = -Infinity;
  return {
    observe(issuedAtSeconds) {
      if (!Number.isFinite(issuedAtSeconds)) return;
      const at = now();
      const offset = issuedAtSeconds - at / 1000;
      deps.onOffset?.(offset);
      if (Math.abs(offset) <= deps.toleranceSeconds || at - lastWarning < warnIntervalMs) return;
      lastWarning = at;
      deps.log.warn(
        { offsetSeconds: Math.round(offset), toleranceSeconds: deps.toleranceSeconds },
        `the OpenID Provider's clock is ${Math.abs(Math.round(offset))} s ${offset > 0 ? 'ahead of' : 'behind'} ours, more than OIDC_CLOCK_TOLERANCE_SECONDS: its logout tokens are refused until the clocks agree`,
      );
    },
  };
}
