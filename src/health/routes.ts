/**
 * Health for operators: /health (every dependency, in the Nexora seed's format),
 * /health/live (the process answers), /health/ready (started and not shutting
 * down), and one route per dependency. 200 when healthy, 503 otherwise, always
 * with the details.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/** The version of package.json, for GET /health. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Check {
  name: string;
  /** resolves with details when healthy; throws when not */
  run(): Promise<Record<string, unknown>>;
}

export interface HealthDeps {
  checks: Check[];
  isReady(): boolean;
}

/** Thrown by a check that is unhealthy but has details to show (they are kept in its result). */
export class Unhealthy extends Error {
  constructor(message: string, readonly details: Record<string, unknown>) {
    super(message);
    this.name = 'Unhealthy';
  }
}

const CHECK_TIMEOUT = 3_000; // ms

export interface CheckResult {
  healthy: boolean;
  latency_ms: number;
  [detail: string]: unknown;
}

export async function runCheck(check: Check): Promise<CheckResult> {
  const started = performance.now();
  try {
    const details = await Promise.race([
      check.run(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT} ms`)), CHECK_TIMEOUT).unref()),
    ]);
    return { healthy: true, latency_ms: Math.round(performance.now() - started), ...details };
  } catch (err) {
    const details = err instanceof Unhealthy ? err.details : {};
    return { healthy: false, latency_ms: Math.round(performance.now() - started), ...details, error: (err as Error).message };
  }
}

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get('/health/live', async () => ({ status: 'ok' }));

  app.get('/health/ready', async (_request, reply) => {
    const ready = deps.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });

  app.get('/health', async (_request, reply) => {
    const results = await Promise.all(deps.checks.map(async (c) => [c.name, await runCheck(c)] as const));
    const healthy = results.every(([, r]) => r.healthy) && deps.isReady();
    // The Nexora seed's format: status, timestamp, uptime (s), version, checks; and whether the process is ready.
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? 'healthy' : 'unhealthy',
      timestamp: new Date().toISOString(),
      uptime: Math.floor(process.uptime()),
      version: VERSION,
      ready: deps.isReady(),
      checks: Object.fromEntries(results),
    });
  });

  for (const check of deps.checks) {
    app.get(`/health/${check.name}`, async (_request, reply) => {
      const result = await runCheck(check);
      return reply.code(result.healthy ? 200 : 503).send(result);
    });
  }
}
