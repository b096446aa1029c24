/** Dead letters for admins: list one DLQ, newest first, and redrive letters back (src/kafka/dead-letter-store.ts). */
import type { FastifyInstance } from 'fastify';
import type { DeadLetterStore, RedriveSelection } from '../kafka/dead-letter-store.ts';
import { REDRIVE_MAX } from '../kafka/dead-letter-store.ts';
import { DLQ_NAMES, decodeLetterCursor, encodeLetterCursor, type DlqName } from '../kafka/dead-letter-view.ts';
import { ValidationError } from '../errors.ts';
import { requireRole } from './authenticate.ts';

const topicParams = { type: 'object', required: ['topic'], properties: { topic: { type: 'string', enum: DLQ_NAMES } } } as const;

interface RedriveBody {
  letters?: { partition: number; offset: string }[];
  endpoint_id?: string;
  all?: true;
  force?: boolean;
}

export async function deadLetterRoutes(app: FastifyInstance, deps: { store: DeadLetterStore }): Promise<void> {
  app.get<{ Params: { topic: DlqName }; Querystring: { limit: number; cursor?: string; user_id?: string; endpoint_id?: string; code?: string } }>('/v1/admin/dead-letters/:topic', {
    preHandler: requireRole('admin'),
    schema: {
      summary: 'List the dead letters of one DLQ (events, accepted, webhook, email), newest first, with whether each was redriven (admin)',
      params: topicParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          cursor: { type: 'string', maxLength: 20_000 },
          user_id: { type: 'string', maxLength: 200 },
          endpoint_id: { type: 'string', maxLength: 200 },
          code: { type: 'string', maxLength: 200 },
        },
      },
    },
  }, async (request) => {
    const { limit, cursor, user_id: userId, endpoint_id: endpointId, code } = request.query;
    const before = decodeLetterCursor(cursor);
    const { letters, next } = await deps.store.list(request.params.topic, { limit, before, filter: { userId, endpointId, code } });
    return { letters, next_cursor: next ? encodeLetterCursor(next) : null };
  });

  app.post<{ Params: { topic: DlqName }; Body: RedriveBody }>('/v1/admin/dead-letters/:topic/redrive', {
    preHandler: requireRole('admin'),
    schema: {
      summary: `Redrive dead letters: the ones named, an endpoint's (webhook), or all not yet redriven; at most ${REDRIVE_MAX} a call (admin)`,
      params: topicParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          letters: {
            type: 'array', minItems: 1, maxItems: REDRIVE_MAX,
            items: {
              type: 'object', additionalProperties: false, required: ['partition', 'offset'],
              properties: { partition: { type: 'integer', minimum: 0, maximum: 1_000_000 }, offset: { type: 'string', pattern: '^[0-9]{1,19}$' } },
            },
          },
          endpoint_id: { type: 'string', minLength: 1, maxLength: 200 },
          all: { type: 'boolean', const: true },
          force: { type: 'boolean', default: false },
        },
      },
    },
  }, async (request, reply) => {
    const body = request.body ?? {};
    const report = await deps.store.redrive(request.params.topic, selectionOf(body), { force: body.force, by: request.principal!.userId });
    return reply.code(202).send(report);
  });
}

/** Exactly one of letters, endpoint_id and all. */
function selectionOf(body: RedriveBody): RedriveSelection {
  const chosen = [body.letters !== undefined, body.endpoint_id !== undefined, body.all !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new ValidationError(['body: give exactly one of letters, endpoint_id and all']);
  if (body.letters) return { letters: body.letters };
  if (body.endpoint_id !== undefined) return { endpointId: body.endpoint_id };
  return { all: true };
}
