/**
 * The expiry cleanup: every `intervalMs`, deletes the inbox rows whose
 * expires_at has passed, a bounded batch per statement, until a batch comes
 * back short. Readers stop seeing an expired row at once (src/db/notifications.ts);
 * the cleanup only frees it. It runs in the process with the projector role;
 * replicas may run it side by side (each batch skips the rows another holds).
 */
import type { Pool } from './pool.ts';
import { deleteExpired } from './notifications.ts';
import { errorKind } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** Rows one delete removes at most: short transactions, whatever the backlog. */
export const CLEANUP_BATCH = 1_000;

export interface ExpiryCleanupOptions {
  pool: Pool;
  /** ms from the end of one round to the start of the next */
  intervalMs: number;
  /** rows per delete; CLEANUP_BATCH unless given */
  batchSize?: number;
  log: Logger;
  /** a failure that is not transient (a bug); a transient one is retried by the next round */
  onFatal(err: Error): void;
}

export interface ExpiryCleanup {
  /** Runs a round now, or joins the one under way; resolves with the rows it deleted. */
  round(): Promise<number>;
  /** No round after this; waits for the one under way (it stops between batches). */
  stop(): Promise<void>;
}

/** Starts the rounds: the first at once (a backlog from downtime), then every `intervalMs`. */
export function startExpiryCleanup(options: ExpiryCleanupOptions): ExpiryCleanup {
  const { pool, intervalMs, log } = options;
  const batchSize = options.batchSize ?? CLEANUP_BATCH;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<number> | undefined;

  const deleteAll = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const deleted = await deleteExpired(pool, batchSize);
      total += deleted;
      if (deleted < batchSize || stopped) return total;
    }
  };

  const round = (): Promise<number> => {
    running ??= deleteAll()
      .then((deleted) => {
        if (deleted > 0) log.info({ deleted }, 'expired notifications deleted');
        return deleted;
      })
      .catch((err: unknown) => {
        if (errorKind(err) !== 'transient') {
          stopped = true; // a bug: no more rounds; the process is to exit
          log.error({ err }, 'the expiry cleanup failed');
          options.onFatal(err instanceof Error ? err : new Error(String(err)));
          return 0;
        }
        log.warn({ err, retryInMs: intervalMs }, 'deleting expired notifications failed; the next round retries');
        return 0;
      })
      .finally(() => { running = undefined; });
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => { void round().then(schedule); }, intervalMs);
    timer.unref();
  };

  void round().then(schedule);
  return {
    round,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
