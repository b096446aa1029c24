/**
 * Waiting for the projector: the gateway pushes a record as soon as it reads
 * it, the inbox read model has it once the projector has stored an offset past
 * it. What the gateway reads from Postgres (unread counts, a resume's missed
 * notifications) it reads after that.
 */
import type { Pool } from '../db/pool.ts';
import { storedOffset } from '../db/consumer-offsets.ts';

export interface ProjectorWait {
  pool: Pool;
  /** the projector's group id, whose offsets Postgres keeps */
  projectorGroup: string;
  /** ms between two reads of the projector's offset */
  pollMs: number;
  /** ms to wait at most */
  waitMs: number;
}

/** Whether the projector's stored offset on the partition reached `target` within `waitMs` (false also once `stopped()`). */
export async function projectorReached(wait: ProjectorWait, topic: string, partition: number, target: bigint, stopped: () => boolean): Promise<boolean> {
  const deadline = Date.now() + wait.waitMs;
  for (;;) {
    if ((await storedOffset(wait.pool, wait.projectorGroup, topic, partition)) >= target) return true;
    if (stopped() || Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, wait.pollMs));
  }
}
