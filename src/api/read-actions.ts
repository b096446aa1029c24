/**
 * Mark read, read all and archive, as the REST routes and the WebSocket
 * commands both apply them: an event on notification.reads that the projector
 * applies. A user only ever changes their own notifications.
 */
import type { Publisher } from '../kafka/publisher.ts';
import type { Pool } from '../db/pool.ts';
import { ownsNotification } from '../db/notifications.ts';
import type { ReadEvent } from '../model/routing.ts';
import { NotFoundError } from '../errors.ts';

export interface ReadActionDeps {
  pool: Pool;
  publisher: Publisher;
  readsTopic: string;
}

/** What a user asks for: one notification read or archived, or everything received so far read. */
export type ReadAction = { action: 'read' | 'archive'; notificationId: string } | { action: 'read_all' };

/**
 * Publishes the ReadEvent of `action` for `userId` at `now` (ms) and returns it.
 * Throws NotFoundError when the notification is not the user's (or does not exist).
 */
export async function applyReadAction(deps: ReadActionDeps, userId: string, action: ReadAction, now: number): Promise<ReadEvent> {
  const event: ReadEvent = action.action === 'read_all'
    ? { user_id: userId, action: 'read_all', notification_id: null, before: now, at: now }
    : { user_id: userId, action: action.action, notification_id: action.notificationId, before: null, at: now };
  if (event.notification_id !== null && !(await ownsNotification(deps.pool, userId, event.notification_id))) throw new NotFoundError('no such notification');
  await deps.publisher.publish(deps.readsTopic, userId, event);
  return event;
}
