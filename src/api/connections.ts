/**
 * GET /v1/admin/connections (admins): the WebSocket connections this gateway
 * process holds, in total and per user (the WebSocket seed's status
 * endpoint). Each gateway process answers for its own sockets.
 */
import type { FastifyInstance } from 'fastify';
import type { Connections } from '../websocket/connections.ts';
import { requireRole } from './authenticate.ts';

export async function connectionRoutes(app: FastifyInstance, deps: { connections: Connections; instanceId: string }): Promise<void> {
  app.get<{ Querystring: { limit: number } }>('/v1/admin/connections', {
    preHandler: requireRole('admin'),
    schema: {
      summary: 'Open WebSocket connections of this gateway process, in total and per user, most first (admin)',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 } } },
    },
  }, async (request) => {
    const { sockets, users } = deps.connections.count();
    return { instance_id: deps.instanceId, sockets, users, per_user: deps.connections.perUser().slice(0, request.query.limit) };
  });
}
