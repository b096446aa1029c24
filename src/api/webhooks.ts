/**
 * A user's webhook endpoints. PUT replaces the whole set on the compacted
 * notification.webhooks topic; the router and projector read it from there.
 *
 * Generic endpoints are signed per Standard Webhooks with a `whsec_` secret:
 * given in the request, kept from the endpoint of the same id, or generated
 * and shown once in the answer. Secrets are sealed (src/secret-box.ts) before
 * they leave this process and are never returned afterwards. Discord, Slack
 * and Teams endpoints carry their credential in the URL and take no secret.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Publisher } from '../kafka/publisher.ts';
import { ENDPOINT_DEFAULTS, WEBHOOK_FORMATS, WEBHOOK_SECRET_PATTERN, WEBHOOK_TIMEOUT_MS, webhookSecretProblem, type WebhookEndpoint, type WebhookEndpoints, type WebhookFormat } from '../model/routing.ts';
import { ValidationError } from '../errors.ts';
import { requireRole } from './authenticate.ts';
import type { Pool } from '../db/pool.ts';
import { listWebhooks } from '../db/webhooks.ts';
import { webhookSecretContext, type SecretBox } from '../secret-box.ts';

export interface WebhookRoutesDeps {
  publisher: Publisher;
  pool: Pool;
  secrets: SecretBox;
  webhooksTopic: string;
  /** ms, for endpoints that set no timeout */
  defaultTimeoutMs: number;
}

interface EndpointBody {
  id: string;
  url: string;
  format?: WebhookFormat;
  secret?: string;
  enabled?: boolean;
  types?: string[];
  headers?: Record<string, string>;
  timeout_ms?: number;
}

/** Headers Tidings sets itself (or HTTP owns), which an endpoint may not set. */
const RESERVED_HEADERS = /^(webhook-.*|content-type|content-length|host|connection|transfer-encoding|keep-alive|upgrade|te|trailer|expect|proxy-.*)$/i;

export const MAX_ENDPOINTS = 20;

const endpointSchema = {
  type: 'object',
  required: ['id', 'url'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
    url: { type: 'string', maxLength: 2048 },
    format: { type: 'string', enum: WEBHOOK_FORMATS, default: 'generic' },
    secret: { type: 'string', pattern: WEBHOOK_SECRET_PATTERN, description: 'Standard Webhooks signing secret (generic format only); generated when left out.' },
    enabled: { type: 'boolean', default: true },
    types: { type: 'array', maxItems: 200, items: { type: 'string', pattern: '^[a-z][a-z0-9_.-]{0,99}$' }, description: 'Notification types sent to it; empty or left out for all.' },
    headers: {
      type: 'object', maxProperties: 20, description: 'Extra HTTP headers sent with every delivery (not webhook-*, content-type or hop-by-hop headers).',
      propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$" },
      additionalProperties: { type: 'string', maxLength: 1024, pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$' },
    },
    timeout_ms: { type: 'integer', minimum: 100, maximum: WEBHOOK_TIMEOUT_MS.max, description: `Milliseconds one attempt may take (default ${WEBHOOK_TIMEOUT_MS.default}).` },
  },
} as const;

/** What the API shows of an endpoint: never the secret. */
function endpointView(e: { id: string; url: string; format: string; enabled: boolean; types: string[]; signed: boolean }) {
  return { id: e.id, url: e.url, format: e.format, enabled: e.enabled, types: e.types, signed: e.signed };
}

/** Every reason the set cannot be stored, besides what the JSON schema checks. */
export function endpointProblems(endpoints: readonly EndpointBody[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  endpoints.forEach((e, i) => {
    if (seen.has(e.id)) problems.push(`endpoints[${i}].id: "${e.id}" appears twice`);
    seen.add(e.id);
    let url: URL | undefined;
    try {
      url = new URL(e.url);
    } catch {
      problems.push(`endpoints[${i}].url: not a URL`);
    }
    if (url && url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`endpoints[${i}].url: must be http or https, not ${url.protocol}`);
    if (url && (url.username || url.password)) problems.push(`endpoints[${i}].url: must not carry credentials; generic endpoints are signed instead`);
    const secretProblem = e.secret === undefined ? undefined : webhookSecretProblem(e.secret);
    if (secretProblem) problems.push(`endpoints[${i}].secret: ${secretProblem}`);
    if (e.secret !== undefined && (e.format ?? 'generic') !== 'generic') problems.push(`endpoints[${i}].secret: only generic endpoints are signed; ${e.format} carries its credential in the URL`);
    for (const name of Object.keys(e.headers ?? {})) {
      if (RESERVED_HEADERS.test(name)) problems.push(`endpoints[${i}].headers: ${name} is set by Tidings or by HTTP itself`);
    }
  });
  return problems;
}

export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export async function webhookRoutes(app: FastifyInstance, deps: WebhookRoutesDeps): Promise<void> {
  app.get('/v1/webhooks', { preHandler: requireRole(), schema: { summary: 'Your webhook endpoints (secrets are never shown again)' } }, async (request) => {
    const rows = await listWebhooks(deps.pool, request.principal!.userId);
    return { endpoints: rows.map((r) => endpointView({ id: r.endpoint_id, url: r.url, format: r.format, enabled: r.enabled, types: r.types, signed: r.secret_encrypted !== null })) };
  });

  app.put<{ Body: { endpoints: EndpointBody[] } }>('/v1/webhooks', {
    preHandler: requireRole(),
    schema: {
      summary: 'Replace your webhook endpoints',
      description: `Up to ${MAX_ENDPOINTS}. A generic endpoint keeps the secret of the endpoint with the same id unless a new one is given; a new one without a secret gets a generated secret, returned once in \`secrets\`.`,
      body: { type: 'object', required: ['endpoints'], additionalProperties: false, properties: { endpoints: { type: 'array', maxItems: MAX_ENDPOINTS, items: endpointSchema } } },
    },
  }, async (request, reply) => {
    const userId = request.principal!.userId;
    const problems = endpointProblems(request.body.endpoints);
    if (problems.length > 0) throw new ValidationError(problems);
    const current = new Map((await listWebhooks(deps.pool, userId)).map((r) => [r.endpoint_id, r]));
    const shown: Record<string, string> = {};
    const endpoints: WebhookEndpoint[] = request.body.endpoints.map((e) => {
      const format = e.format ?? 'generic';
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
        headers: e.headers ?? {}, timeout_ms: e.timeout_ms ?? deps.defaultTimeoutMs,
      };
    });
    const value: WebhookEndpoints = { user_id: userId, endpoints, updated_at: Date.now() };
    await deps.publisher.publish(deps.webhooksTopic, userId, value);
    return reply.code(202).send({
      endpoints: endpoints.map((e) => endpointView({ ...e, signed: e.secret_encrypted !== null })),
      secrets: shown,
    });
  });
}
