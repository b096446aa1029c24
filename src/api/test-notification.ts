/**
 * POST /v1/notifications/test: the caller sends themself a `system_test`
 * notification (the WebSocket seed's test endpoint) through the whole
 * pipeline, as an event on notification.events; rate-limited per user.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Publisher } from '../kafka/publisher.ts';
import { eventKey, sourceKey, SEVERITIES, type Severity } from '../model/notification.ts';
import { stableId } from '../model/ids.ts';
import { ValidationError } from '../errors.ts';
import { eventFromBody } from './event-body.ts';
import { requireRole } from './authenticate.ts';
import { createLimiter } from './rate-limit.ts';

export interface TestNotificationRoutesDeps {
  publisher: Publisher;
  eventsTopic: string;
  /** test notifications per user per minute (TIDINGS_TEST_NOTIFICATION_PER_MINUTE) */
  perMinute: number;
  clock?: () => number;
}

const body = {
  type: 'object',
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    message: { type: 'string', minLength: 1, maxLength: 2_000 },
    severity: { type: 'string', enum: [...SEVERITIES] },
  },
} as const;

type Body = { title?: string; message?: string; severity?: Severity } | undefined;

export async function testNotificationRoutes(app: FastifyInstance, deps: TestNotificationRoutesDeps): Promise<void> {
  const clock = deps.clock ?? Date.now;
  const limiter = createLimiter({ max: deps.perMinute, windowMs: 60_000 }, clock);

  app.post<{ Body: Body }>('/v1/notifications/test', {
    preHandler: requireRole(),
    // The body is optional (`curl -X POST` with a token is enough): none is validated as {}.
    preValidation: async (request) => { request.body ??= {}; },
    schema: {
      summary: 'Send yourself a test notification',
      description: `A \`system_test\` notification (in-app only unless your preferences say otherwise) through the whole pipeline; title, message and severity may be given. At most TIDINGS_TEST_NOTIFICATION_PER_MINUTE (${deps.perMinute}) a minute per user, then 429 with Retry-After.`,
      body,
      response: {
        202: {
          type: 'object',
          properties: { status: { type: 'string' }, event_id: { type: 'string' }, notification_id: { type: 'string' }, source_key: { type: 'string' } },
        },
      },
    },
  }, async (request, reply) => {
    const userId = request.principal!.userId;
    const waitMs = limiter.take(userId);
    if (waitMs !== undefined) {
      return reply.code(429).header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1_000))))
        .send({ error: 'TIDINGS_RATE_LIMITED', message: 'too many test notifications; try again later' });
    }
    const eventId = randomUUID();
    // Held to the rules of POST /v1/events: a user id or text Postgres or the source key cannot hold gets 400, not a dead letter.
    const result = eventFromBody({
      event_id: eventId, user_id: userId, type: 'system_test',
      title: request.body?.title ?? 'Test notification',
      message: request.body?.message ?? 'A test notification, asked for through the Tidings API.',
      severity: request.body?.severity ?? 'info',
      data: { test: true }, source_type: 'tidings', source_id: `notification-test:${eventId}`,
    }, clock());
    if (!result.ok) throw new ValidationError(result.reasons);
    const event = result.event;
    await deps.publisher.publish(deps.eventsTopic, eventKey(event), event);
    return reply.code(202).send({ status: 'accepted', event_id: eventId, notification_id: stableId(sourceKey(event, userId)), source_key: eventKey(event) });
  });
}
