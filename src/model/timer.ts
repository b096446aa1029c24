/**
 * Delayed events and their cancels (notification.timers, notification.scheduled):
 * the record, and when an event asks to be delivered.
 */
import type { NotificationEvent } from './notification.ts';

/** A delayed event waiting for its time (pending), or a cancel of its key (cancelled); see schemas/timer.avsc. */
export interface Timer {
  timer_key: string;
  state: 'pending' | 'cancelled';
  /** pending: the event to publish when due, without its delay */
  event: NotificationEvent | null;
  /** ms since the epoch; pending: when it fires */
  due_at: number | null;
  /** ms since the epoch: when the event that scheduled or cancelled it occurred */
  occurred_at: number;
  /** ms since the epoch: when Tidings recorded it */
  at: number;
}

/** ms since the epoch: when the event asks to be delivered (deliver_at, else occurred_at + delay_ms), or null for at once. */
export function deliveryTime(event: NotificationEvent): number | null {
  if (event.deliver_at !== undefined && event.deliver_at !== null) return event.deliver_at;
  if (event.delay_ms !== undefined && event.delay_ms !== null) return event.occurred_at + event.delay_ms;
  return null;
}

/**
 * The event as the scheduler publishes it when due: deliver_at its due time
 * (passed, so it is not delayed again, not even by its type's default delay),
 * no timer, no cancels (they were applied when it was scheduled).
 */
export function dueEvent(event: NotificationEvent, dueAt: number): NotificationEvent {
  return { ...event, deliver_at: dueAt, delay_ms: null, timer_key: null, cancels: [] };
}
