/**
 * Reconnect delays: exponential with full jitter (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): each delay is uniform in
 * [0, min(max, initial * 2^attempt)), so many clients dropped by one server
 * restart do not come back in lockstep.
 */

export interface BackoffOptions {
  /** ms, the cap of the first delay */
  initialMs: number;
  /** ms, the cap no delay exceeds */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ initialMs: 500, maxMs: 30_000 });

/** The delay (ms) before reconnect attempt `attempt` (0 for the first); `random` returns a number in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

export interface Backoff {
  /** the next delay (ms); each call counts one attempt more */
  next(): number;
  /** back to the first attempt's ceiling, after a connection that worked */
  reset(): void;
  /** attempts since the last reset */
  readonly attempt: number;
}

/** Validates `options` once and counts attempts. */
export function createBackoff(options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): Backoff {
  if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
    throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${options.initialMs} and ${options.maxMs}`);
  }
  let attempt = 0;
  return {
    next: () => backoffDelay(attempt++, options, random),
    reset() { attempt = 0; },
    get attempt() { return attempt; },
  };
}
