/**
 * The dedupe processor's logic. An event is accepted once per recipient and
 * source key (`source_type:source_id:type:user_id`) within the dedupe window;
 * a repeat is a duplicate and is dropped. An event that arrived under another
 * key is first sent back to notification.events under its own key, so that
 * every copy of it meets the same partition and the same state.
 */
import { ValidationError } from '../../errors.ts';
import type { DecideContext } from '../context.ts';
import type { Notification, NotificationEvent } from '../../model/notification.ts';
import { eventKey, recipientsOf, sourceKey, type MemberLookup } from '../../model/notification.ts';
import { typeInfo } from '../../model/catalogue.ts';
import { eventViolations } from '../../model/validate.ts';

/** The changelog value of a source key. */
export interface DedupeEntry {
  source_key: string;
  notification_id: string;
  /** ms since the epoch */
  first_seen_at: number;
}

export interface DedupeState {
  /** ms a source key is remembered */
  windowMs: number;
  seen(sourceKey: string): DedupeEntry | undefined;
  /** who holds the roles or follows the topics of an audience, now */
  members: MemberLookup;
}

export type DedupeOutput =
  | { kind: 'repartition'; key: string; event: NotificationEvent }
  | { kind: 'remember'; entry: DedupeEntry }
  | { kind: 'accepted'; notification: Notification }
  | { kind: 'duplicate'; sourceKey: string }
  | { kind: 'forget'; sourceKey: string };

/**
 * @throws ValidationError (poison) when the event breaks the rules
 */
export function decideDedupe(input: { key: string | null; value: NotificationEvent }, state: DedupeState, ctx: DecideContext): DedupeOutput[] {
  const event = input.value;
  const reasons = eventViolations(event);
  if (reasons.length > 0) throw new ValidationError(reasons);

  const key = eventKey(event);
  if (input.key !== key) return [{ kind: 'repartition', key, event }];

  return recipientsOf(event, state.members).flatMap((userId): DedupeOutput[] => {
    const recipientKey = sourceKey(event, userId);
    const seen = state.seen(recipientKey);
    if (seen !== undefined && ctx.now - seen.first_seen_at < state.windowMs) return [{ kind: 'duplicate', sourceKey: recipientKey }];
    const id = ctx.stableId(recipientKey);
    return [
      { kind: 'remember', entry: { source_key: recipientKey, notification_id: id, first_seen_at: ctx.now } },
      { kind: 'accepted', notification: notificationFor(event, userId, recipientKey, id, ctx.now) },
    ];
  });
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
  };
}
