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

const MAX_DELAY = 366 * 24 * 60 * 60 * 1000; // ms: a year and a day ahead at most
const MAX_KEY = 500; // characters of a timer key
const MAX_CANCELS = 100;

/** Every way the event's timing fields (deliver_at, delay_ms, timer_key, cancels, expires_at) are wrong, as "field: reason". */
export function timingViolations(event: NotificationEvent): string[] {
  const reasons: string[] = [];
  const time = (field: 'deliver_at' | 'expires_at') => {
    const value = event[field];
    if (value !== undefined && value !== null && (!Number.isSafeInteger(value) || value <= 0)) reasons.push(`${field}: must be a positive time in ms`);
  };
  time('deliver_at');
  time('expires_at');
  if (event.deliver_at && event.deliver_at - event.occurred_at > MAX_DELAY) reasons.push('deliver_at: more than 366 days after occurred_at');
  const delay = event.delay_ms;
  if (delay !== undefined && delay !== null && (!Number.isSafeInteger(delay) || delay < 0 || delay > MAX_DELAY)) reasons.push(`delay_ms: must be a whole number of ms from 0 to ${MAX_DELAY} (366 days)`);
  const key = (field: string, value: string) => {
    if (value.trim().length === 0) reasons.push(`${field}: must not be empty`);
    else if (value.length > MAX_KEY) reasons.push(`${field}: longer than ${MAX_KEY} characters`);
    else if (value.includes('\u0000')) reasons.push(`${field}: must not contain U+0000`);
  };
  if (event.timer_key !== undefined && event.timer_key !== null) key('timer_key', event.timer_key);
  const cancels = event.cancels ?? [];
  if (cancels.length > MAX_CANCELS) reasons.push(`cancels: more than ${MAX_CANCELS} timer keys`);
  else cancels.forEach((k, i) => key(`cancels.${i}`, k));
  return reasons;
}
