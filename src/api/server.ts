/**
 * The HTTP server: REST routes, health, and the WebSocket server
 * (src/websocket) on the same port. Errors answer with their code and reasons; a 5xx is logged, a 4xx is not.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Authenticator } from '../auth.ts';
import { BadRequestError, InternalError, NotFoundError, TidingsError, ValidationError } from '../errors.ts';

export interface HttpServerOptions {
  log: Logger;
  auth: Authenticator;
  /** bytes */
  bodyLimit?: number;
  /** where each request's duration is counted, by method, route pattern and status; nothing without */
  metrics?: Metrics;
}

/** Creates the server; register routes on it, then call `ready()`. GET /openapi.json serves the document built from the route schemas. */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Requests are not logged one by one: URLs may carry tokens; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    return503OnClosing: true,
  });
  app.decorate('auth', options.auth);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tidings', version: '0.1.0', description: 'Notifications from Kafka events: ingest, preferences, inbox.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Postgres text and jsonb cannot hold U+0000: refused here, for every route, before any of it reaches a query or a topic.
  app.addHook('preValidation', async (request) => {
    const where = whereNul({ params: request.params, query: request.query, body: request.body });
    if (where) throw new ValidationError([`${where}: must not contain U+0000`]);
  });

  const durations = options.metrics?.http.requestDuration;
  if (durations) {
    app.addHook('onResponse', async (request, reply) => {
      durations.observe({ method: request.method, route: routeLabel(request.routeOptions.url), status_code: String(reply.statusCode) }, reply.elapsedTime / 1_000);
    });
  }

  app.setErrorHandler((err: FastifyError | TidingsError, request, reply) => {
    const answer = err instanceof TidingsError ? err : fromFastify(err);
    if (answer.statusCode >= 500) request.log.error({ err }, 'request failed');
    return reply.code(answer.statusCode).send(errorBody(answer));
  });

  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(new NotFoundError(`no route ${request.method} ${request.url.split('?')[0]}`))));
  return app;
}

/**
 * A request's `route` label: its route's pattern (`/v1/notifications/:id/read`),
 * never the raw URL, so ids make no series of their own; requests that matched
 * no route (404s, probes) share one.
 */
export function routeLabel(pattern: string | undefined): string {
  return pattern ?? UNMATCHED_ROUTE;
}

export const UNMATCHED_ROUTE = '(unmatched)';

/** fastify's own errors: a 4xx (malformed JSON, unsupported content type, body too large …) with its reasons, a 5xx as nothing but internal. */
function fromFastify(err: FastifyError): TidingsError {
  const status = err.statusCode ?? 500;
  if (status >= 500) return new InternalError(status, { cause: err });
  const reasons = err.validation?.map((v) => `${v.instancePath || 'body'}: ${v.message ?? 'invalid'}`) ?? [err.message];
  return new BadRequestError(err.message, reasons, status, err.code, { cause: err });
}

/** The JSON an error answers with: its code and message, and its reasons when it has them. */
function errorBody(err: TidingsError): Record<string, unknown> {
  const body: Record<string, unknown> = { error: err.code, message: err.message };
  if (err instanceof ValidationError || err instanceof BadRequestError) body.reasons = err.reasons;
  return body;
}

/**
 * The first place in `parts` (parsed JSON, any depth) with U+0000 in a key or
 * string, named by its first two levels ("body.title"); undefined when none.
 * Walks without recursion: a body may nest thousands of levels.
 */
function whereNul(parts: Record<string, unknown>): string | undefined {
  const stack: [unknown, string, number][] = Object.entries(parts).map(([name, value]) => [value, name, 1]);
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [value, where, level] = next;
    if (typeof value === 'string' && value.includes('\u0000')) return where;
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) return where;
      stack.push([child, level < 2 ? `${where}.${key}` : where, level + 1]);
    }
  }
  return undefined;
}
