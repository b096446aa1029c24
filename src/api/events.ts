/** POST /v1/events: HTTP ingest, validated against the NotificationEvent schema and produced to notification.events. */
import type { FastifyInstance } from 'fastify';
import type { Publisher } from '../kafka/publisher.ts';
import { eventKey, recipientsOf, sourceKey } from '../model/notification.ts';
import { stableId } from '../model/ids.ts';
import { ValidationError } from '../errors.ts';
import { eventFromBody } from './event-body.ts';
import { eventBodyJsonSchema } from './event-json-schema.ts';
import { requireRole } from './authenticate.ts';

export interface EventRoutesDeps {
  publisher: Publisher;
  eventsTopic: string;
}

const documentedBody = eventBodyJsonSchema();

export async function eventRoutes(app: FastifyInstance, deps: EventRoutesDeps): Promise<void> {
  app.post('/v1/events', {
    preHandler: requireRole('producer', 'admin'),
    // fastify validates only that the body is an object; eventFromBody gives every other reason, in its
    // own words and all at once. The OpenAPI document shows the whole body schema instead.
    config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: documentedBody }, url }) },
    schema: {
      summary: 'Publish an event',
      description: 'Validated against the NotificationEvent Avro schema; 400 lists every reason when it does not fit.',
      body: { type: 'object' },
      response: {
        202: {
          type: 'object',
          properties: {
            status: { type: 'string' },
            source_key: { type: 'string' },
            notification_ids: { type: 'object', additionalProperties: { type: 'string' }, description: 'the id each recipient\'s notification will have' },
            partition: { type: 'integer' },
            offset: { type: 'string' },
          },
        },
      },
    },
  }, async (request, reply) => {
    const result = eventFromBody(request.body, Date.now());
    if (!result.ok) throw new ValidationError(result.reasons);
    const event = result.event;
    const key = eventKey(event);
    const written = await deps.publisher.publish(deps.eventsTopic, key, event);
    const ids = Object.fromEntries(recipientsOf(event).map((userId) => [userId, stableId(sourceKey(event, userId))]));
    return reply.code(202).send({ status: 'accepted', source_key: key, notification_ids: ids, ...written });
  });
}
