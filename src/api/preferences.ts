/**
 * A user's channel choices. PUT writes the whole set to the compacted
 * notification.preferences topic (the router and projector read it from
 * there); it answers with the channels that will apply, mandatory types
 * included.
 */
import type { FastifyInstance } from 'fastify';
import type { Publisher } from '../kafka/publisher.ts';
import { CATALOGUE, typeInfo } from '../model/catalogue.ts';
import { channelsFor, type PreferenceSet } from '../model/routing.ts';
import { requireRole } from './authenticate.ts';
import type { Pool } from '../db/pool.ts';
import { getPreferences } from '../db/preferences.ts';

export interface PreferenceRoutesDeps {
  publisher: Publisher;
  pool: Pool;
  preferencesTopic: string;
}

const channelsSchema = { in_app: { type: 'boolean' }, email: { type: 'boolean' }, webhook: { type: 'boolean' } } as const;

/** What applies per type: every catalogue type and every type the user chose for. */
export function effectivePreferences(set: PreferenceSet | undefined) {
  const types = [...new Set([...Object.keys(CATALOGUE), ...(set?.preferences.map((p) => p.type) ?? [])])];
  return types.map((type) => {
    const info = typeInfo(type);
    return { type, category: info.category, mandatory: info.mandatory, customised: set?.preferences.some((p) => p.type === type) ?? false, ...channelsFor(type, set) };
  });
}

export async function preferenceRoutes(app: FastifyInstance, deps: PreferenceRoutesDeps): Promise<void> {
  app.get('/v1/preferences', { preHandler: requireRole(), schema: { summary: 'Your channels per notification type, as they apply' } }, async (request) => {
    const userId = request.principal!.userId;
    const stored = await getPreferences(deps.pool, userId);
    const set = stored && { user_id: userId, preferences: stored.preferences, updated_at: stored.updated_at.getTime() };
    return { user_id: userId, preferences: effectivePreferences(set) };
  });

  app.put<{ Body: { preferences: { type: string; in_app: boolean; email: boolean; webhook: boolean }[] } }>('/v1/preferences', {
    preHandler: requireRole(),
    schema: {
      summary: 'Replace your notification preferences',
      description: 'Per type and channel. Types left out use their defaults; mandatory security types reach in-app and e-mail whatever is chosen.',
      body: {
        type: 'object',
        required: ['preferences'],
        additionalProperties: false,
        properties: {
          preferences: {
            type: 'array',
            maxItems: 500,
            items: {
              type: 'object',
              required: ['type', 'in_app', 'email', 'webhook'],
              additionalProperties: false,
              properties: { type: { type: 'string', pattern: '^[a-z][a-z0-9_.-]{0,99}$' }, ...channelsSchema },
            },
          },
        },
      },
    },
  }, async (request, reply) => {
    const userId = request.principal!.userId;
    const byType = new Map(request.body.preferences.map((p) => [p.type, p]));
    const set: PreferenceSet = { user_id: userId, preferences: [...byType.values()], updated_at: Date.now() };
    await deps.publisher.publish(deps.preferencesTopic, userId, set);
    return reply.code(202).send({ user_id: userId, preferences: effectivePreferences(set) });
  });
}
