/**
 * Waiting for the projector: the gateway pushes a record as soon as it reads
 * it, the inbox read model has it once the projector has stored an offset past
 * it. What the gateway reads from Postgres (unread counts, a resume's missed
 * notifications) it reads after that.
 *
 * Where the projector runs in the same process, its commits say how far it
 * is (ProjectorProgress), and a wait ends at the commit that reaches the
 * target, without reading Postgres; elsewhere the stored offset is read every
 * `pollMs`.
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
  /** the commits of this process's projector, if it runs one */
  progress?: ProjectorProgress;
}

/**
 * ms a wait on a partition that this process's projector commits waits for
 * its next commit before it reads Postgres after all (the partition may have
 * moved to another process's projector).
 */
const LOCAL_FALLBACK_MS = 250;

/** How far this process's projector has come, told after each of its Postgres commits. */
export interface ProjectorProgress {
  /** the projector stored `nextOffset` for the partition (in the same transaction as its rows) */
  committed(topic: string, partition: number, nextOffset: bigint): void;
  /** the highest offset stored here for the partition; undefined: this process's projector never committed on it */
  at(topic: string, partition: number): bigint | undefined;
  /** resolves true at the partition's next commit here, false after `ms` without one */
  next(topic: string, partition: number, ms: number): Promise<boolean>;
}

export function createProjectorProgress(): ProjectorProgress {
  const stored = new Map<string, bigint>();
  const waiting = new Map<string, Set<(committed: boolean) => void>>();
  const key = (topic: string, partition: number) => `${topic}:${partition}`;
  return {
    committed(topic, partition, nextOffset) {
      const k = key(topic, partition);
      const before = stored.get(k);
      if (before === undefined || nextOffset > before) stored.set(k, nextOffset);
      const wake = waiting.get(k);
      if (!wake) return;
      waiting.delete(k);
      for (const resolve of wake) resolve(true);
    },
    at(topic, partition) {
      return stored.get(key(topic, partition));
    },
    next(topic, partition, ms) {
      const k = key(topic, partition);
      return new Promise<boolean>((resolve) => {
        const done = (committed: boolean) => { clearTimeout(timer); waiting.get(k)?.delete(done); resolve(committed); };
        const timer = setTimeout(() => done(false), ms);
        let set = waiting.get(k);
        if (!set) waiting.set(k, (set = new Set()));
        set.add(done);
      });
    },
  };
}

/** Whether the projector's stored offset on the partition reached `target` within `waitMs` (false also once `stopped()`). */
export async function projectorReached(wait: ProjectorWait, topic: string, partition: number, target: bigint, stopped: () => boolean): Promise<boolean> {
  const deadline = Date.now() + wait.waitMs;
  let read = false; // whether to read Postgres this round where this process's projector commits (always elsewhere)
  for (;;) {
    const local = wait.progress?.at(topic, partition);
    if (local !== undefined && local >= target) return true;
    if ((local === undefined || read) && (await storedOffset(wait.pool, wait.projectorGroup, topic, partition)) >= target) return true;
    const left = deadline - Date.now();
    if (stopped() || left <= 0) return false;
    if (local === undefined || !wait.progress) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait.pollMs, left)));
      read = true;
    } else {
      // This process's projector commits here: its next commit says whether it got there; Postgres only when none comes.
      read = !(await wait.progress.next(topic, partition, Math.min(LOCAL_FALLBACK_MS, left)));
    }
  }
}
