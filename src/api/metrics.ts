/**
 * GET /metrics: every metric of this process (src/metrics.ts) in the
 * Prometheus text format, for a Prometheus server to scrape. Like /health it
 * needs no login: it holds counts, never a user's data.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';

export interface MetricsRouteDeps {
  metrics: Metrics;
}

export async function metricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await deps.metrics.scrape();
    return reply.type(deps.metrics.contentType).send(text);
  });
}
