/**
 * How to reach a user: e-mail, display name, locale, time zone, roles. A user
 * edits their own profile (not their roles); an admin edits anyone's. Writes
 * go to the compacted notification.recipients topic.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Publisher } from '../kafka/publisher.ts';
import type { Recipient } from '../model/routing.ts';
import { AuthError, NotFoundError, ValidationError } from '../errors.ts';
import { requireRole } from './authenticate.ts';
import type { Pool } from '../db/pool.ts';
import { getRecipient } from '../db/recipients.ts';

export interface RecipientRoutesDeps {
  publisher: Publisher;
  pool: Pool;
  recipientsTopic: string;
}

interface ProfileBody {
  email?: string | null;
  display_name?: string | null;
  locale?: string;
  time_zone?: string;
  roles?: string[];
  topics?: string[];
}

const profileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    email: { type: ['string', 'null'], format: 'email', maxLength: 254 },
    display_name: { type: ['string', 'null'], maxLength: 200 },
    locale: { type: 'string', pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' },
    time_zone: { type: 'string', maxLength: 64 },
    roles: { type: 'array', maxItems: 50, items: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]{0,99}$' } },
    topics: { type: 'array', maxItems: 200, items: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]{0,99}$' } },
  },
} as const;

export async function recipientRoutes(app: FastifyInstance, deps: RecipientRoutesDeps): Promise<void> {
  const write = async (userId: string, body: ProfileBody, request: FastifyRequest) => {
    if (body.time_zone !== undefined && !isTimeZone(body.time_zone)) {
      throw new ValidationError([`time_zone: "${body.time_zone}" is not an IANA time zone`]);
    }
    const isAdmin = request.principal!.roles.includes('admin');
    if (body.roles !== undefined && !isAdmin) throw new AuthError('only an admin sets roles', 403);
    // Roles and topics left out keep their current values: a user editing their profile keeps the roles an admin gave.
    const current = body.roles === undefined || body.topics === undefined ? await getRecipient(deps.pool, userId) : undefined;
    const recipient: Recipient = {
      user_id: userId,
      email: body.email ?? null,
      display_name: body.display_name ?? null,
      locale: body.locale ?? 'en',
      time_zone: body.time_zone ?? 'UTC',
      roles: body.roles ?? current?.roles ?? [],
      topics: body.topics ?? current?.topics ?? [],
      updated_at: Date.now(),
    };
    await deps.publisher.publish(deps.recipientsTopic, userId, recipient);
    return recipient;
  };

  app.get('/v1/recipients/me', { preHandler: requireRole(), schema: { summary: 'Your profile' } }, async (request) => {
    const found = await getRecipient(deps.pool, request.principal!.userId);
    if (!found) throw new NotFoundError('no profile yet; PUT /v1/recipients/me creates it');
    return found;
  });

  app.put<{ Body: ProfileBody }>('/v1/recipients/me', {
    preHandler: requireRole(),
    schema: { summary: 'Replace your own profile', body: profileSchema },
  }, async (request, reply) => reply.code(202).send(await write(request.principal!.userId, request.body, request)));

  app.put<{ Body: ProfileBody; Params: { userId: string } }>('/v1/recipients/:userId', {
    preHandler: requireRole('admin'),
    schema: { summary: 'Replace a user\'s profile (admin)', body: profileSchema, params: { type: 'object', properties: { userId: { type: 'string', minLength: 1, maxLength: 200 } } } },
  }, async (request, reply) => reply.code(202).send(await write(request.params.userId, request.body, request)));
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
