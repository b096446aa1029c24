/**
 * When a notification has expired (NotificationEvent.expires_at): the rule the
 * projector and the gateway decide by. The inbox queries of
 * src/db/notifications.ts state the same rule in SQL (`expires_at > now()`).
 */
import type { Notification } from '../../model/notification.ts';

/** Whether `n` has expired at `now` (ms since the epoch): from its expires_at on; never without one. */
export function isExpired(n: Pick<Notification, 'expires_at'>, now: number): boolean {
  return n.expires_at !== undefined && n.expires_at !== null && n.expires_at <= now;
}
