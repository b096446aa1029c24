/** The gateway's logic: which frame each inbox notification becomes, and for whom. */
import type { Notification } from '../../model/notification.ts';
import type { NotificationFrame } from '../../websocket/protocol.ts';

export type GatewayOutput = { kind: 'push'; userId: string; frame: NotificationFrame };

export function decideGateway(n: Notification): GatewayOutput[] {
  return [{
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
        occurred_at: new Date(n.occurred_at).toISOString(),
        created_at: new Date(n.created_at).toISOString(),
        read: false,
      },
    },
  }];
}
