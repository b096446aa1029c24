/**
 * Retries transient failures with exponential backoff and full jitter.
 * Poison inputs and programmer errors are final on the first throw.
 */
import { errorKind } from '../errors.ts';

export interface RetryOptions {
  retries: number;
  /** ms before the first retry */
  initialMs: number;
  /** ms cap between retries */
  maxMs: number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** stop retrying early, e.g. on shutdown */
  shouldStop?: () => boolean;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, initialMs: 100, maxMs: 5_000 };

/** The delay before retry `attempt` (1-based), in ms, before jitter. */
export function backoffMs(attempt: number, options: Pick<RetryOptions, 'initialMs' | 'maxMs'>): number {
  return Math.min(options.maxMs, options.initialMs * 2 ** (attempt - 1));
}

export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (errorKind(err) !== 'transient' || attempt > options.retries || options.shouldStop?.()) throw err;
      const delay = Math.round(Math.random() * backoffMs(attempt, options));
      options.onRetry?.(err, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
