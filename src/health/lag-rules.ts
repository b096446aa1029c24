/**
 * Burrow's consumer lag evaluation rules, as a pure function over a window of
 * samples of one partition (github.com/linkedin/Burrow, evaluator/caching.go).
 *
 * Burrow sees every offset commit with its time; the Kafka admin API that
 * Tidings samples shows only the committed offset at the moment of a sample,
 * not when it was committed nor whether the same offset was committed again.
 * So here the window is the partition's last N samples, taken every interval,
 * and:
 *
 * - a "commit" is a sample whose committed offset differs from the sample
 *   before it, timed at that sample;
 * - STOP and STALL, which Burrow tells apart by commit times (no commits at all
 *   for longer than the window spans, versus commits that keep the same
 *   offset), are told apart by the group's live members: with no member
 *   assigned the partition's topic, a partition that saw no commit for longer
 *   than its commits in the window span (or none in the whole window) is STOP,
 *   the consumer stopped; with a member assigned and the offset unchanged across
 *   the whole window, it is STALL, a live consumer that does not move on. A
 *   live member whose offset stood still for part of the window only is judged
 *   by the lag rule (WARN or OK) until the window holds no change.
 *
 * One addition: a consumer that holds an offset by design (a retry tier's
 * lane waits for its head record's due time) is given `waitMs`: STOP and STALL
 * are judged only once the committed offset stood still for longer than that
 * (since `changedAt`, which may lie before the window).
 *
 * In Burrow's order, each rule skipping the rest when it holds:
 *
 * 1. lag now 0, or 0 in any sample of the window: OK;
 * 2. a committed offset lower than the one before it: REWIND;
 * 3. a window not yet full: OK (Burrow judges whatever commits it has; a
 *    window of samples taken at start would read as an unchanged offset);
 * 4. no members and no commit for longer than the window's commits span: STOP;
 * 5. members and the offset unchanged across the window: STALL;
 *    (4 and 5 only when the offset stood still for longer than waitMs)
 * 6. lag never decreased from one sample to the next: WARN;
 * 7. else OK.
 *
 * A group's status is the worst of its partitions', with STOP, STALL and
 * REWIND reported as ERR, as Burrow's group status does.
 */

export const PARTITION_STATUSES = ['OK', 'WARN', 'STOP', 'STALL', 'REWIND'] as const;
export type PartitionStatus = (typeof PARTITION_STATUSES)[number];
export const GROUP_STATUSES = ['OK', 'WARN', 'ERR'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

/** One sample of a partition of a group. */
export interface LagSample {
  /** ms since the epoch */
  at: number;
  /** the group's committed offset (the next record it reads) */
  offset: bigint;
  /** the partition's log-end offset */
  end: bigint;
  /** records the group still has to read (end less the offset, less trailing transaction markers when known) */
  lag: bigint;
  /** live members of the group assigned this partition's topic */
  members: number;
  /** ms since the epoch: when the committed offset was first seen at this value (default: the window's first sample) */
  changedAt?: number;
}

export interface PartitionEvaluation {
  status: PartitionStatus;
  /** share of the window filled, 0 to 1 */
  complete: number;
}

/** Burrow's severity order: a later status is worse. */
const SEVERITY: readonly PartitionStatus[] = ['OK', 'WARN', 'STOP', 'STALL', 'REWIND'];

/**
 * The status of a partition from its last samples, oldest first.
 * @param size the window's length: samples needed before STOP, STALL and WARN are judged
 * @param waitMs ms the consumer may hold an offset by design before STOP or STALL
 */
export function evaluatePartition(window: readonly LagSample[], size: number, waitMs = 0): PartitionEvaluation {
  const complete = Math.min(1, window.length / size);
  const status = statusOf(window, size, waitMs);
  return { status, complete };
}

function statusOf(window: readonly LagSample[], size: number, waitMs: number): PartitionStatus {
  const current = window.at(-1);
  if (!current || current.lag <= 0n || window.some((s) => s.lag <= 0n)) return 'OK';
  if (window.some((s, i) => i > 0 && s.offset < window[i - 1]!.offset)) return 'REWIND';
  if (window.length < size) return 'OK';
  const commits = window.filter((s, i) => i > 0 && s.offset !== window[i - 1]!.offset).map((s) => s.at);
  const waited = current.at - (current.changedAt ?? window[0]!.at) > waitMs;
  if (waited && current.members === 0 && stopped(commits, current.at)) return 'STOP';
  if (waited && current.members > 0 && commits.length === 0) return 'STALL';
  if (window.every((s, i) => i === 0 || s.lag >= window[i - 1]!.lag)) return 'WARN';
  return 'OK';
}

/** Burrow's rule 3: the time since the last commit is longer than the window's commits span (none in the window: stopped). */
function stopped(commits: readonly number[], now: number): boolean {
  const first = commits[0];
  const last = commits.at(-1);
  if (first === undefined || last === undefined) return true;
  return now - last > last - first;
}

/** The worse of two partition statuses, in Burrow's order. */
export function worse(a: PartitionStatus, b: PartitionStatus): PartitionStatus {
  return SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a;
}

/** A group's status from its partitions': the worst, STOP, STALL and REWIND counting as ERR. */
export function evaluateGroup(statuses: readonly PartitionStatus[]): GroupStatus {
  const worst = statuses.reduce<PartitionStatus>(worse, 'OK');
  return worst === 'OK' || worst === 'WARN' ? worst : 'ERR';
}
