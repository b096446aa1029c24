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
 */
import { ValidationError } from '../../errors.ts';
import type { DecideContext } from '../../processor.ts';
import type { Notification, NotificationEvent } from '../../model/notification.ts';
import { eventKey, recipientsOf, sourceKey, type MemberLookup } from '../../model/notification.ts';
import { typeInfo } from '../../model/catalogue.ts';
import { eventViolations } from '../../model/validate.ts';
import type { DedupeEntry } from '../../model/dedupe-entry.ts';

export type { DedupeEntry };

export interface DedupeState {
  /** ms a source key is remembered */
  windowMs: number;
  seen(sourceKey: string): DedupeEntry | undefined;
  /** who holds the roles or follows the topics of an audience, now */
  members: MemberLookup;
  /** the partition of notification.events a key belongs on */
  partitionOf(key: string): number;
}

export type DedupeOutput =
  | { kind: 'repartition'; key: string; partition: number; event: NotificationEvent }
  | { kind: 'fan_out'; key: string; partition: number; event: NotificationEvent }
  | { kind: 'remember'; entry: DedupeEntry }
  | { kind: 'accepted'; notification: Notification }
  | { kind: 'duplicate'; sourceKey: string }
  | { kind: 'forget'; sourceKey: string };

/**
 * @throws ValidationError (poison) when the event breaks the rules
 */
export function decideDedupe(input: { key: string | null; partition: number; value: NotificationEvent }, state: DedupeState, ctx: DecideContext): DedupeOutput[] {
  const event = input.value;
  const reasons = eventViolations(event);
  if (reasons.length > 0) throw new ValidationError(reasons);

  const key = eventKey(event);
  const home = state.partitionOf(key);
  if (input.key !== key || input.partition !== home) return [{ kind: 'repartition', key, partition: home, event }];

  if (event.user_id === null) {
    return recipientsOf(event, state.members).map((userId): DedupeOutput => {
      const single = { ...event, user_id: userId, audience: null };
      const recipientKey = sourceKey(event, userId);
      return { kind: 'fan_out', key: recipientKey, partition: state.partitionOf(recipientKey), event: single };
    });
  }

  const seen = state.seen(key);
  if (seen !== undefined && ctx.now - seen.first_seen_at < state.windowMs) return [{ kind: 'duplicate', sourceKey: key }];
  const id = ctx.stableId(key);
  return [
    { kind: 'remember', entry: { source_key: key, notification_id: id, first_seen_at: ctx.now } },
    { kind: 'accepted', notification: notificationFor(event, event.user_id, key, id, ctx.now) },
  ];
}

/** Tombstones for up to `limit` source keys first seen longer than the window ago. */
export function expireDedupe(entries: Iterable<[string, DedupeEntry]>, now: number, windowMs: number, limit: number): DedupeOutput[] {
  const outputs: DedupeOutput[] = [];
  for (const [key, entry] of entries) {
    if (outputs.length >= limit) break;
    if (now - entry.first_seen_at >= windowMs) outputs.push({ kind: 'forget', sourceKey: key });
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
