/**
 * The gateway's logic: which frames each inbox notification becomes, and for
 * whom. A security notification also goes to every admin's sockets as a
 * system_alert (KrakenHashes' admin alerts), whoever it concerns.
 */
import type { Notification } from '../../model/notification.ts';
import type { ReadEvent } from '../../model/routing.ts';
import type { NotificationFrame, SystemAlertFrame } from '../../websocket/protocol.ts';
import type { DecideContext } from '../../processor.ts';
import { isExpired } from '../projector/expiry.ts';

/** The role whose sockets get system_alert frames. */
export const ALERTED_ROLE = 'admin';

export type GatewayOutput =
  /** the frame's position is the record's, which the adapter adds */
  | { kind: 'push'; userId: string; frame: Omit<NotificationFrame, 'position'> }
  | { kind: 'alert'; role: string; frame: SystemAlertFrame }
  /** the user's unread count may have changed: send it once the projector has this record */
  | { kind: 'count'; userId: string };

/** A read, read-all or archive changes the user's unread count (notification.reads). */
export function decideRead(e: ReadEvent): GatewayOutput[] {
  return [{ kind: 'count', userId: e.user_id }];
}

/**
 * The frames of one inbox notification. One already expired when read (a
 * gateway behind) is not pushed: the projector does not put it in the inbox
 * either, so the unread count does not change.
 */
export function decideGateway(n: Notification, ctx: Pick<DecideContext, 'now'>): GatewayOutput[] {
  if (isExpired(n, ctx.now)) return [];
  const occurredAt = new Date(n.occurred_at).toISOString();
  const push: GatewayOutput = {
    kind: 'push',
    userId: n.user_id,
    frame: {
      type: 'notification',
      notification: {
        id: n.id,
        type: n.type,
        category: n.category,
        severity: n.severity,
        title: n.title,
        message: n.message,
        data: JSON.parse(n.data) as Record<string, unknown>,
        action_url: n.action_url,
        source: { type: n.source_type, id: n.source_id },
        occurred_at: occurredAt,
        created_at: new Date(n.created_at).toISOString(),
        read: false,
        expires_at: n.expires_at === undefined || n.expires_at === null ? null : new Date(n.expires_at).toISOString(),
      },
    },
  };
  const count: GatewayOutput = { kind: 'count', userId: n.user_id };
  if (n.category !== 'security') return [push, count];
  return [push, count, {
    kind: 'alert',
    role: ALERTED_ROLE,
    frame: {
      type: 'system_alert',
      alert: {
        notification_id: n.id, event_type: n.type, severity: n.severity, title: n.title, message: n.message,
        user_id: n.user_id, source: { type: n.source_type, id: n.source_id }, occurred_at: occurredAt,
      },
    },
  }];
}
