/**
 * The first processor: turns a valid event into one accepted notification for
 * its recipient. Deduplication and fan-out come with the dedupe processor.
 */
import { ValidationError } from '../../errors.ts';
import type { DecideContext } from '../context.ts';
import type { Notification, NotificationEvent } from '../../model/notification.ts';
import { sourceKey } from '../../model/notification.ts';
import { typeInfo } from '../../model/catalogue.ts';
import { eventViolations } from '../../model/validate.ts';

export type AcceptOutput = { kind: 'accepted'; notification: Notification };

/**
 * @throws ValidationError (poison) when the event breaks the rules
 */
export function decideAccept(event: NotificationEvent, ctx: DecideContext): AcceptOutput[] {
  const reasons = eventViolations(event);
  if (reasons.length > 0) throw new ValidationError(reasons);
  const key = sourceKey(event);
  return [{
    kind: 'accepted',
    notification: {
      id: ctx.stableId(key),
      user_id: event.user_id,
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
      created_at: ctx.now,
    },
  }];
}
