/**
 * The inbox: list (newest first, cursor pagination, unread filter), unread
 * count, and mark read / read all / archive. Changes are events on
 * notification.reads; the projector applies them, so they replay like
 * everything else. A user only ever sees and changes their own notifications,
 * and none that has expired: to the listing, the count and read / archive
 * (404) an expired notification is as unknown as one that never was.
 */
import type { FastifyInstance } from 'fastify';
import { listInbox, unreadCount, type InboxRow } from '../db/notifications.ts';
import type { NotificationView } from '../model/notification.ts';
import { applyReadAction, type ReadActionDeps } from './read-actions.ts';
import { requireRole } from './authenticate.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export type InboxRoutesDeps = ReadActionDeps;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const;

export async function inboxRoutes(app: FastifyInstance, deps: InboxRoutesDeps): Promise<void> {
  app.get<{ Querystring: { limit: number; cursor?: string; unread: boolean; archived: boolean } }>('/v1/notifications', {
    preHandler: requireRole(),
    schema: {
      summary: 'List your notifications, newest first',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          cursor: { type: 'string', maxLength: 200 },
          unread: { type: 'boolean', default: false },
          archived: { type: 'boolean', default: false },
        },
      },
    },
  }, async (request) => {
    const { limit, cursor, unread, archived } = request.query;
    const after = decodeCursor(cursor);
    const rows = await listInbox(deps.pool, request.principal!.userId, { limit: limit + 1, after: after && { createdAt: after.at, id: after.id }, unreadOnly: unread, archived });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      notifications: page.map(present),
      next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  });

  app.get('/v1/notifications/unread-count', { preHandler: requireRole(), schema: { summary: 'Your unread count' } },
    async (request) => ({ unread: await unreadCount(deps.pool, request.principal!.userId) }));

  // Read and archive act on one notification, the caller's own.
  for (const [action, summary] of [['read', 'Mark one notification read'], ['archive', 'Archive one notification']] as const) {
    app.post<{ Params: { id: string } }>(`/v1/notifications/:id/${action}`, { preHandler: requireRole(), schema: { summary, params: idParams } },
      async (request, reply) => {
        await applyReadAction(deps, request.principal!.userId, { action, notificationId: request.params.id }, Date.now());
        return reply.code(202).send({ status: 'accepted' });
      });
  }

  app.post('/v1/notifications/read-all', { preHandler: requireRole(), schema: { summary: 'Mark everything received so far read' } },
    async (request, reply) => {
      await applyReadAction(deps, request.principal!.userId, { action: 'read_all' }, Date.now());
      return reply.code(202).send({ status: 'accepted' });
    });
}

function present(row: InboxRow): NotificationView & { read_at: string | null; archived: boolean; delivery: Record<string, unknown> } {
  return {
    ...notificationView(row),
    read_at: row.read_at?.toISOString() ?? null,
    archived: row.archived_at !== null,
    delivery: row.delivery,
  };
}

/** A row of the inbox as REST and the WebSocket show a notification. */
export function notificationView(row: InboxRow): NotificationView {
  return {
    id: row.id,
    type: row.type,
    category: row.category,
    severity: row.severity,
    title: row.title,
    message: row.message,
    data: row.data,
    action_url: row.action_url,
    source: { type: row.source_type, id: row.source_id },
    occurred_at: row.occurred_at.toISOString(),
    created_at: row.created_at.toISOString(),
    read: row.read_at !== null,
    expires_at: row.expires_at?.toISOString() ?? null,
  };
}
