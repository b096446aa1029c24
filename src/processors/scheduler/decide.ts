/**
 * The scheduler's logic. Its table holds, per timer key, a pending delayed
 * event or a recent cancel. Requests (notification.timers) meet the table:
 * a cancel removes a pending timer scheduled at or before it occurred and
 * stays as a marker, so that a timer of an earlier event which arrives after
 * its cancel (another partition of notification.events was slower) never
 * fires; a later schedule of the key replaces the marker or an older pending
 * timer. On the wall-clock tick, due timers fire: their event goes to
 * notification.events and their entry leaves the table, in one transaction;
 * markers are forgotten after the retention.
 */
import { ValidationError } from '../../errors.ts';
import type { DecideContext } from '../../processor.ts';
import type { NotificationEvent } from '../../model/notification.ts';
import { dueEvent, type Timer } from '../../model/timer.ts';

export interface SchedulerState {
  get(timerKey: string): Timer | undefined;
  /** every timer of the partition, for the tick */
  entries(): Iterable<[string, Timer]>;
  /** ms a cancel is remembered */
  cancelRetentionMs: number;
}

export type SchedulerOutput =
  /** the table's entry for the key becomes `timer` (changelog record) */
  | { kind: 'put'; timer: Timer }
  /** the request changes nothing; `reason` says why */
  | { kind: 'ignore'; timerKey: string; reason: string }
  /** a due timer: `event` to notification.events, the entry removed (tombstone) */
  | { kind: 'fire'; timerKey: string; event: NotificationEvent }
  /** a cancel marker past its retention: removed (tombstone) */
  | { kind: 'forget'; timerKey: string };

/**
 * What a request from notification.timers does to the table.
 * @throws ValidationError (poison) for a pending timer without its event or due time
 */
export function decideTimer(request: Timer, state: Pick<SchedulerState, 'get'>): SchedulerOutput[] {
  if (request.state === 'pending' && (request.event === null || request.due_at === null)) throw new ValidationError(['a pending timer needs its event and due_at']);
  const current = state.get(request.timer_key);
  const ignore = (reason: string): SchedulerOutput[] => [{ kind: 'ignore', timerKey: request.timer_key, reason }];
  if (request.state === 'pending') {
    if (current?.state === 'cancelled' && current.occurred_at >= request.occurred_at) return ignore('cancelled by an event that occurred after it');
    // Of two timers of one instant the first stays: a repeat, or an approval request's timers asked for again by each recipient's copy of it.
    if (current?.state === 'pending' && current.occurred_at >= request.occurred_at) return ignore('a timer of an event as late or later is pending');
    return [{ kind: 'put', timer: request }];
  }
  if (current?.state === 'pending' && current.occurred_at > request.occurred_at) return ignore('the pending timer was scheduled after the cancel occurred');
  if (current?.state === 'cancelled' && current.occurred_at >= request.occurred_at) return ignore('already cancelled as of a later event');
  // No timer (not yet arrived, or already fired: a late cancel), or one it cancels: the marker stays for the retention.
  return [{ kind: 'put', timer: request }];
}

/** On the tick: the due timers fire, old cancel markers go; at most `limit` outputs. */
export function decideTick(state: Pick<SchedulerState, 'entries' | 'cancelRetentionMs'>, ctx: Pick<DecideContext, 'now'>, limit: number): SchedulerOutput[] {
  const due: { key: string; at: number; event: NotificationEvent }[] = [];
  const forgotten: SchedulerOutput[] = [];
  for (const [key, timer] of state.entries()) {
    if (timer.state === 'pending' && timer.event && timer.due_at !== null && timer.due_at <= ctx.now) due.push({ key, at: timer.due_at, event: timer.event });
    else if (timer.state === 'cancelled' && ctx.now - timer.at >= state.cancelRetentionMs) forgotten.push({ kind: 'forget', timerKey: key });
  }
  // The longest overdue first, should there be more than one tick takes.
  due.sort((a, b) => a.at - b.at || a.key.localeCompare(b.key));
  const fired = due.map((d): SchedulerOutput => ({ kind: 'fire', timerKey: d.key, event: dueEvent(d.event, d.at) }));
  return [...fired, ...forgotten].slice(0, limit);
}
