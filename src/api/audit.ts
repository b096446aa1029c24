/** The audit log of security notifications, for admins. */
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db/pool.ts';
import { listAudit } from '../db/audit-log.ts';
import { requireRole } from './authenticate.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export async function auditRoutes(app: FastifyInstance, deps: { pool: Pool }): Promise<void> {
  app.get<{ Querystring: { limit: number; cursor?: string; user_id?: string } }>('/v1/admin/audit', {
    preHandler: requireRole('admin'),
    schema: {
      summary: 'List the audit log, newest first (admin)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          cursor: { type: 'string', maxLength: 200 },
          user_id: { type: 'string', maxLength: 200 },
        },
      },
    },
  }, async (request) => {
    const { limit, cursor, user_id: userId } = request.query;
    const after = decodeCursor(cursor);
    const rows = await listAudit(deps.pool, { limit: limit + 1, after: after && { recordedAt: after.at, id: after.id }, userId });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { entries: page, next_cursor: rows.length > limit && last ? encodeCursor(last.recorded_at, last.id) : null };
  });
}
