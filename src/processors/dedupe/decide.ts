/**
 * The dedupe processor's logic. An event is accepted once per recipient and
 * source key (`source_type:source_id:type:user_id`) within the dedupe window;
 * a repeat is a duplicate and is dropped. Every copy of a recipient's event
 * must meet the same state, so an event is decided only under its own key on
 * the partition that key belongs to (murmur2, as Kafka's Java client places
 * it): one that arrived under another key, or on another partition (a
 * producer with another partitioner, explicit partitions, round-robin), is
 * first sent back to notification.events under its key and partition; an
 * audience's event is first split into one event per recipient, sent back the
 * same way, so that it meets that recipient's single-user events.
 *
 * Time, before that split: an event that asks to be delivered later
 * (deliver_at, delay_ms, or the type's default delay such as agent_offline's
 * buffer) becomes a pending timer on notification.timers for the scheduler,
 * which sends it back when due; an event's `cancels` (and an approval
 * answer's) become cancels of those timer keys; an approval request also
 * schedules its escalation (src/model/approvals.ts).
 */
import { ValidationError } from '../../errors.ts';
import type { DecideContext } from '../../processor.ts';
import type { Notification, NotificationEvent } from '../../model/notification.ts';
import { eventKey, recipientsOf, sourceKey, type MemberLookup } from '../../model/notification.ts';
import { typeInfo, withCatalogueDefaults } from '../../model/catalogue.ts';
import { eventViolations } from '../../model/validate.ts';
import type { DedupeEntry } from '../../model/dedupe-entry.ts';
import { deliveryTime, type Timer } from '../../model/timer.ts';
import { answerCancels, approvalTimers } from '../../model/approvals.ts';

export type { DedupeEntry };

export interface DedupeState {
  /** ms a source key is remembered */
  windowMs: number;
  /** when a remembered source key was first seen (ms since the epoch) */
  firstSeenAt(sourceKey: string): number | undefined;
  /** who holds the roles or follows the topics of an audience, now */
  members: MemberLookup;
  /** the partition of notification.events a key belongs on */
  partitionOf(key: string): number;
  /** ms an event of the type waits when it names no delivery time (agent_offline: the offline buffer) */
  defaultDelays: Readonly<Record<string, number>>;
}

export type DedupeOutput =
  | { kind: 'repartition'; key: string; partition: number; event: NotificationEvent }
  | { kind: 'fan_out'; key: string; partition: number; event: NotificationEvent }
  | { kind: 'remember'; entry: DedupeEntry }
  | { kind: 'accepted'; notification: Notification }
  | { kind: 'duplicate'; sourceKey: string }
  /** a delayed event to schedule, or a cancel, for the scheduler (notification.timers) */
  | { kind: 'timer'; timer: Timer }
  | { kind: 'forget'; sourceKey: string };

/**
 * @throws ValidationError (poison) when the event breaks the rules
 */
export function decideDedupe(input: { key: string | null; partition: number; value: NotificationEvent }, state: DedupeState, ctx: DecideContext): DedupeOutput[] {
  const reasons = eventViolations(input.value);
  if (reasons.length > 0) throw new ValidationError(reasons);
  // The type's default audience (access_denied naming nobody: the security admins).
  const event = withCatalogueDefaults(input.value);

  const key = eventKey(event);
  const home = state.partitionOf(key);
  if (input.key !== key || input.partition !== home) return [{ kind: 'repartition', key, partition: home, event }];

  const timers = timersOf(event, key, state, ctx.now);
  const deliverAt = deliveryTime(event) ?? (Object.hasOwn(state.defaultDelays, event.type) ? event.occurred_at + state.defaultDelays[event.type]! : null);
  if (deliverAt !== null && deliverAt > ctx.now) {
    const delayed = { ...event, cancels: [] }; // applied now, not again when it fires
    return [...timers, { kind: 'timer', timer: { timer_key: event.timer_key ?? key, state: 'pending', event: delayed, due_at: deliverAt, occurred_at: event.occurred_at, at: ctx.now } }];
  }
  // Due (at once, or sent back by the scheduler): from here on it is an event like any other.
  const due = { ...event, deliver_at: null, delay_ms: null, timer_key: null, cancels: [] };

  if (due.user_id === null) {
    return [...timers, ...recipientsOf(due, state.members).map((userId): DedupeOutput => {
      const single = { ...due, user_id: userId, audience: null };
      const recipientKey = sourceKey(event, userId);
      return { kind: 'fan_out', key: recipientKey, partition: state.partitionOf(recipientKey), event: single };
    })];
  }

  const firstSeen = state.firstSeenAt(key);
  if (firstSeen !== undefined && ctx.now - firstSeen < state.windowMs) return [{ kind: 'duplicate', sourceKey: key }];
  const id = ctx.stableId(key);
  return [
    ...timers,
    { kind: 'remember', entry: { source_key: key, notification_id: id, first_seen_at: ctx.now } },
    { kind: 'accepted', notification: notificationFor(due, due.user_id, key, id, ctx.now) },
  ];
}

/**
 * The cancels an event asks for (its `cancels`, an approval answer's), and
 * the timers an approval request schedules. A repeat asks for the same again,
 * which changes nothing in the scheduler's table.
 */
function timersOf(event: NotificationEvent, key: string, state: DedupeState, now: number): DedupeOutput[] {
  const cancels = [...new Set([...(event.cancels ?? []), ...answerCancels(event)])].map((timerKey): DedupeOutput => ({
    kind: 'timer', timer: { timer_key: timerKey, state: 'cancelled', event: null, due_at: null, occurred_at: event.occurred_at, at: now },
  }));
  return [...cancels, ...approvalTimers(event, now).map((timer): DedupeOutput => ({ kind: 'timer', timer }))];
}

/** Tombstones for up to `limit` source keys first seen longer than the window ago. */
export function expireDedupe(entries: Iterable<[string, number]>, now: number, windowMs: number, limit: number): DedupeOutput[] {
  const outputs: DedupeOutput[] = [];
  for (const [key, firstSeenAt] of entries) {
    if (outputs.length >= limit) break;
    if (now - firstSeenAt >= windowMs) outputs.push({ kind: 'forget', sourceKey: key });
  }
  return outputs;
}

function notificationFor(event: NotificationEvent, userId: string, key: string, id: string, now: number): Notification {
  return {
    id,
    user_id: userId,
    type: event.type,
    category: typeInfo(event.type).category,
    severity: event.severity,
    title: event.title,
    message: event.message,
    data: event.data ?? '{}',
    action_url: event.action_url,
    source_type: event.source_type,
    source_id: event.source_id,
    source_key: key,
    event_id: event.event_id,
    occurred_at: event.occurred_at,
    created_at: now,
    expires_at: event.expires_at ?? null,
  };
}
