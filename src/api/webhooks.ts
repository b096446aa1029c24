/**
 * A user's webhook endpoints. PUT replaces the whole set on the compacted
 * notification.webhooks topic; the router and projector read it from there.
 * Rotating a secret and enabling an endpoint publish the whole set too, read
 * from Postgres as PUT reads it. A test delivery is a delivery command for one
 * endpoint on notification.delivery.webhook, like the router's.
 *
 * Generic endpoints are signed per Standard Webhooks with a `whsec_` secret:
 * given in the request, kept from the endpoint of the same id, or generated
 * and shown once in the answer. Secrets are sealed (src/secret-box.ts) before
 * they leave this process and are never returned afterwards. Discord, Slack
 * and Teams endpoints carry their credential in the URL and take no secret.
 *
 * A URL is saved only if its host resolves and every address it resolves to
 * may be reached (src/channels/webhook/address-guard.ts); each connection is
 * checked again when it is made, since DNS answers change.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Publisher } from '../kafka/publisher.ts';
import { ENDPOINT_DEFAULTS, webhookTarget, type DeliveryCommand, type WebhookEndpoint, type WebhookEndpoints } from '../model/routing.ts';
import { sourceKey, type Notification } from '../model/notification.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { requireRole } from './authenticate.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Pool } from '../db/pool.ts';
import { endpointOf, findWebhook, listWebhooks } from '../db/webhooks.ts';
import { endpointStats, listAttempts, type AttemptRow, type EndpointStats } from '../db/delivery-attempts.ts';
import { sealHeaders, webhookSecretContext, type SecretBox } from '../secret-box.ts';
import type { Network, Resolver } from '../channels/webhook/address-guard.ts';
import { detectFormat } from '../channels/webhook/payload.ts';
import { addressProblems, endpointProblems, endpointSchema, idParams, MAX_ENDPOINTS, type EndpointBody } from './webhook-validation.ts';

import { createLimiter } from './rate-limit.ts';

export interface WebhookRoutesDeps {
  publisher: Publisher;
  pool: Pool;
  secrets: SecretBox;
  webhooksTopic: string;
  deliveryWebhookTopic: string;
  /** ms, for endpoints that set no timeout */
  defaultTimeoutMs: number;
  /** networks a URL may reach although their range is refused (TIDINGS_WEBHOOK_ALLOWED_NETWORKS) */
  allowed: readonly Network[];
  resolve: Resolver;
  /** ms the secret before a rotation still signs */
  secretGraceMs: number;
  /** test deliveries one user may ask for per window; 5 per 60 000 ms unless given */
  testLimit?: { max: number; windowMs: number };
  /** ms since the epoch; Date.now unless given */
  clock?: () => number;
}

type EndpointFields = Pick<WebhookEndpoint, 'id' | 'url' | 'format' | 'enabled' | 'disabled_reason' | 'types' | 'headers' | 'timeout_ms'>;

/** What the API shows of an endpoint: never a secret, only whether it is signed; its custom headers' names, values null (sealed). */
function endpointView(e: EndpointFields & { signed: boolean }) {
  return {
    id: e.id, url: e.url, format: e.format, enabled: e.enabled, disabled_reason: e.disabled_reason, types: e.types,
    headers: Object.fromEntries(Object.keys(e.headers).map((name) => [name, null])), timeout_ms: e.timeout_ms, signed: e.signed,
  };
}

function statsView(s: EndpointStats | undefined) {
  return {
    total_sent: s?.total_sent ?? 0, total_failed: s?.total_failed ?? 0, last_triggered_at: s?.last_triggered_at?.toISOString() ?? null,
    last_success_at: s?.last_success_at?.toISOString() ?? null, last_error: s?.last_error ?? null,
  };
}

function attemptView(a: AttemptRow) {
  return {
    delivery_id: a.delivery_id, attempt: a.attempt, notification_id: a.notification_id, outcome: a.outcome, status: a.status, error: a.error,
    latency_ms: a.latency_ms, next_attempt_at: a.next_attempt_at?.toISOString() ?? null, at: a.at.toISOString(),
  };
}

export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** An attempts cursor: the inbox's cursor of (at, delivery_id) and the attempt number. */
function encodeAttemptCursor(a: AttemptRow): string {
  return `${encodeCursor(a.at, a.delivery_id)}.${a.attempt}`;
}

/** @throws ValidationError when the cursor was not made by encodeAttemptCursor */
function decodeAttemptCursor(cursor: string | undefined): { at: Date; deliveryId: string; attempt: number } | undefined {
  if (cursor === undefined) return undefined;
  const [position, attempt = '', ...rest] = cursor.split('.');
  if (!/^[1-9]\d{0,8}$/.test(attempt) || rest.length > 0) throw new ValidationError(['cursor: not a cursor from this API']);
  const { at, id } = decodeCursor(position)!;
  return { at, deliveryId: id, attempt: Number(attempt) };
}

/** The notification a test delivery carries. */
function testNotification(userId: string, endpointId: string, id: string, now: number): Notification {
  const source = { source_type: 'tidings', source_id: `webhook-test:${id}`, type: 'system_test' };
  return {
    id, user_id: userId, ...source, category: 'system', severity: 'info',
    title: 'Test notification', message: `A test delivery to webhook ${endpointId}, asked for through the Tidings API.`,
    data: JSON.stringify({ endpoint_id: endpointId, test: true }), action_url: null,
    source_key: sourceKey(source, userId), event_id: null, occurred_at: now, created_at: now,
  };
}

export async function webhookRoutes(app: FastifyInstance, deps: WebhookRoutesDeps): Promise<void> {
  const clock = deps.clock ?? Date.now;
  const testLimiter = createLimiter(deps.testLimit ?? { max: 5, windowMs: 60_000 }, clock);
  const publishSet = (userId: string, endpoints: WebhookEndpoint[]) => {
    const value: WebhookEndpoints = { user_id: userId, endpoints, updated_at: clock() };
    return deps.publisher.publish(deps.webhooksTopic, userId, value);
  };
  /** The user's endpoints as projected, `id` among them; NotFoundError when it is not. */
  const currentSet = async (userId: string, id: string) => {
    const rows = await listWebhooks(deps.pool, userId);
    const row = rows.find((r) => r.endpoint_id === id);
    if (!row) throw new NotFoundError(`no webhook endpoint ${id}`);
    return { row, endpoints: rows.map(endpointOf) };
  };

  app.get('/v1/webhooks', { preHandler: requireRole(), schema: { summary: 'Your webhook endpoints with their delivery statistics (secrets are never shown again)' } }, async (request) => {
    const userId = request.principal!.userId;
    const [rows, stats] = await Promise.all([listWebhooks(deps.pool, userId), endpointStats(deps.pool, userId)]);
    return { endpoints: rows.map((r) => ({ ...endpointView({ ...endpointOf(r), signed: r.secret_encrypted !== null }), ...statsView(stats.get(r.endpoint_id)) })) };
  });

  app.put<{ Body: { endpoints: EndpointBody[] } }>('/v1/webhooks', {
    preHandler: requireRole(),
    schema: {
      summary: 'Replace your webhook endpoints',
      description: `Up to ${MAX_ENDPOINTS}. A generic endpoint keeps the secret of the endpoint with the same id unless a new one is given; a new one without a secret gets a generated secret, returned once in \`secrets\`. A URL whose host does not resolve, or resolves to a private, loopback, link-local or other refused address, is refused.`,
      body: { type: 'object', required: ['endpoints'], additionalProperties: false, properties: { endpoints: { type: 'array', maxItems: MAX_ENDPOINTS, items: endpointSchema } } },
    },
  }, async (request, reply) => {
    const userId = request.principal!.userId;
    const problems = [...endpointProblems(request.body.endpoints), ...await addressProblems(request.body.endpoints, deps.allowed, deps.resolve)];
    if (problems.length > 0) throw new ValidationError(problems);
    const current = new Map((await listWebhooks(deps.pool, userId)).map((r) => [r.endpoint_id, r]));
    // A header given as null keeps its stored (sealed) value; one without a stored value is refused.
    const kept = request.body.endpoints.flatMap((e, i) => Object.entries(e.headers ?? {}).filter(([, v]) => v === null)
      .filter(([name]) => !Object.keys(current.get(e.id)?.headers ?? {}).some((stored) => stored.toLowerCase() === name.toLowerCase()))
      .map(([name]) => `endpoints[${i}].headers.${name}: null keeps the stored value, and this endpoint has none for it`));
    if (kept.length > 0) throw new ValidationError(kept);
    const headersOf = (e: (typeof request.body.endpoints)[number]): Record<string, string> => {
      const stored = current.get(e.id)?.headers ?? {};
      const given = Object.entries(e.headers ?? {});
      const fresh = Object.fromEntries(given.filter((entry): entry is [string, string] => entry[1] !== null));
      const keep = Object.fromEntries(given.filter(([, v]) => v === null).map(([name]) => {
        const key = Object.keys(stored).find((s) => s.toLowerCase() === name.toLowerCase())!;
        return [key, stored[key]!];
      }));
      return { ...keep, ...sealHeaders(deps.secrets, fresh, userId, e.id) };
    };
    const shown: Record<string, string> = {};
    const endpoints: WebhookEndpoint[] = request.body.endpoints.map((e) => {
      const format = e.format ?? detectFormat(e.url);
      let sealed: string | null = null;
      let previous: Pick<WebhookEndpoint, 'previous_secret_encrypted' | 'previous_secret_expires_at'> = { previous_secret_encrypted: null, previous_secret_expires_at: null };
      if (format === 'generic') {
        const before = current.get(e.id);
        const kept = e.secret === undefined ? before?.secret_encrypted : undefined;
        if (kept) {
          sealed = kept;
          // A rotation's grace period outlives edits of the endpoint's other fields.
          previous = { previous_secret_encrypted: before?.previous_secret_encrypted ?? null, previous_secret_expires_at: before?.previous_secret_expires_at ?? null };
        } else {
          const secret = e.secret ?? generateSecret();
          if (e.secret === undefined) shown[e.id] = secret;
          sealed = deps.secrets.seal(secret, webhookSecretContext(userId, e.id));
        }
      }
      return {
        ...ENDPOINT_DEFAULTS, ...previous,
        id: e.id, url: e.url, format, secret_encrypted: sealed, enabled: e.enabled ?? true, types: e.types ?? [],
        headers: headersOf(e), timeout_ms: e.timeout_ms ?? deps.defaultTimeoutMs,
      };
    });
    await publishSet(userId, endpoints);
    return reply.code(202).send({
      endpoints: endpoints.map((e) => endpointView({ ...e, signed: e.secret_encrypted !== null })),
      secrets: shown,
    });
  });

  app.post<{ Params: { id: string } }>('/v1/webhooks/:id/rotate-secret', {
    preHandler: requireRole(),
    schema: {
      summary: 'Give a generic endpoint a new generated signing secret',
      description: 'The new secret is returned once. Deliveries are signed with the previous one too until `previous_secret_expires_at`.',
      params: idParams,
    },
  }, async (request, reply) => {
    const userId = request.principal!.userId;
    const { id } = request.params;
    const { row, endpoints } = await currentSet(userId, id);
    if (row.format !== 'generic') throw new ValidationError([`${id}: only generic endpoints are signed; ${row.format} carries its credential in the URL`]);
    const secret = generateSecret();
    const expiresAt = clock() + deps.secretGraceMs;
    const rotated = endpoints.map((e) => (e.id !== id ? e : {
      ...e, secret_encrypted: deps.secrets.seal(secret, webhookSecretContext(userId, id)),
      previous_secret_encrypted: row.secret_encrypted, previous_secret_expires_at: row.secret_encrypted === null ? null : expiresAt,
    }));
    await publishSet(userId, rotated);
    return reply.code(202).send({ secret, previous_secret_expires_at: row.secret_encrypted === null ? null : new Date(expiresAt).toISOString() });
  });

  app.post<{ Params: { id: string } }>('/v1/webhooks/:id/enable', {
    preHandler: requireRole(),
    schema: { summary: 'Turn an endpoint on again, after Tidings or you turned it off', params: idParams },
  }, async (request, reply) => {
    const userId = request.principal!.userId;
    const { id } = request.params;
    const { endpoints } = await currentSet(userId, id);
    await publishSet(userId, endpoints.map((e) => (e.id === id ? { ...e, enabled: true, disabled_reason: null } : e)));
    return reply.code(202).send({ status: 'accepted' });
  });

  app.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>('/v1/webhooks/:id/attempts', {
    preHandler: requireRole(),
    schema: {
      summary: 'Delivery attempts of one of your endpoints, newest first',
      params: idParams,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: { type: 'string', maxLength: 200 } },
      },
    },
  }, async (request) => {
    const userId = request.principal!.userId;
    const { id } = request.params;
    const { limit, cursor } = request.query;
    const after = decodeAttemptCursor(cursor);
    if (!(await findWebhook(deps.pool, userId, id))) throw new NotFoundError(`no webhook endpoint ${id}`);
    const rows = await listAttempts(deps.pool, userId, id, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { attempts: page.map(attemptView), next_cursor: rows.length > limit && last ? encodeAttemptCursor(last) : null };
  });

  app.post<{ Params: { id: string } }>('/v1/webhooks/:id/test', {
    preHandler: requireRole(),
    schema: {
      summary: 'Send a test notification to one of your endpoints',
      description: 'A `system_test` notification, delivered (and retried) like any other; its attempts show under /attempts. At most 5 a minute per user.',
      params: idParams,
    },
  }, async (request, reply) => {
    const userId = request.principal!.userId;
    const { id } = request.params;
    const waitMs = testLimiter.take(userId);
    if (waitMs !== undefined) {
      return reply.code(429).header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1_000))))
        .send({ error: 'TIDINGS_RATE_LIMITED', message: 'too many test deliveries; try again later' });
    }
    const row = await findWebhook(deps.pool, userId, id);
    if (!row) throw new NotFoundError(`no webhook endpoint ${id}`);
    if (!row.enabled) throw new ValidationError([`${id}: the endpoint is disabled${row.disabled_reason ? ` (${row.disabled_reason})` : ''}; enable it first`]);
    const now = clock();
    const command: DeliveryCommand = {
      delivery_id: randomUUID(), channel: 'webhook', user_id: userId, email: null, webhook: webhookTarget(endpointOf(row)), attempt: 1,
      notification: testNotification(userId, id, randomUUID(), now), created_at: now,
    };
    await deps.publisher.publish(deps.deliveryWebhookTopic, userId, command);
    return reply.code(202).send({ delivery_id: command.delivery_id });
  });
}
