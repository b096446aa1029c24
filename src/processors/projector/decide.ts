/**
 * The projector's logic: which read-model change each record makes. Every
 * Postgres table is such a projection of a topic, so it can be rebuilt by
 * replaying the log.
 */
import type { Notification } from '../../model/notification.ts';
import type { AuditEvent, DeliveryResult, PreferenceSet, ReadEvent, Recipient, WebhookEndpoints } from '../../model/routing.ts';
import type { DecideContext } from '../../processor.ts';
import { isExpired } from './expiry.ts';

export type ProjectorInput =
  /** from notification.inbox: the router put it in the user's inbox */
  | { kind: 'notification'; notification: Notification }
  | { kind: 'read'; event: ReadEvent }
  | { kind: 'preferences'; userId: string; value: PreferenceSet | null }
  | { kind: 'recipients'; userId: string; value: Recipient | null }
  | { kind: 'webhooks'; userId: string; value: WebhookEndpoints | null }
  | { kind: 'audit'; event: AuditEvent }
  /** from notification.delivery.results */
  | { kind: 'result'; result: DeliveryResult };

export type ProjectorOutput =
  | { kind: 'insert_notification'; notification: Notification }
  | { kind: 'apply_read'; event: ReadEvent }
  | { kind: 'put_preferences'; userId: string; value: PreferenceSet | null }
  | { kind: 'put_recipient'; userId: string; value: Recipient | null }
  | { kind: 'put_webhooks'; userId: string; value: WebhookEndpoints | null }
  | { kind: 'insert_audit'; event: AuditEvent }
  | { kind: 'put_delivery_result'; result: DeliveryResult };

/**
 * The read-model changes of one record. A notification already expired when
 * projected (a late record, a rebuild replaying the log) changes nothing: the
 * log keeps it, the inbox never shows it, and its offset is stored as any other.
 */
export function decideProjection(input: ProjectorInput, ctx: Pick<DecideContext, 'now'>): ProjectorOutput[] {
  switch (input.kind) {
    case 'notification':
      return isExpired(input.notification, ctx.now) ? [] : [{ kind: 'insert_notification', notification: input.notification }];
    case 'read':
      return [{ kind: 'apply_read', event: input.event }];
    case 'preferences':
      return [{ kind: 'put_preferences', userId: input.userId, value: input.value }];
    case 'recipients':
      return [{ kind: 'put_recipient', userId: input.userId, value: input.value }];
    case 'webhooks':
      return [{ kind: 'put_webhooks', userId: input.userId, value: input.value }];
    case 'audit':
      return [{ kind: 'insert_audit', event: input.event }];
    case 'result':
      return [{ kind: 'put_delivery_result', result: input.result }];
  }
}
