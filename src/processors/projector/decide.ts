/** The projector's logic: which read-model change each accepted notification makes. */
import type { Notification } from '../../model/notification.ts';

export type ProjectorOutput = { kind: 'insert_notification'; notification: Notification };

export function decideProjection(notification: Notification): ProjectorOutput[] {
  return [{ kind: 'insert_notification', notification }];
}
