/**
 * The `email` health check. A process that runs the email role reports the
 * transports its e-mail lanes send through (state, circuit, rate-limit use,
 * last error; URLs with their passwords redacted by the pool); any other
 * process only verifies the first SMTP_URL.
 */
import type { TransportPool, TransportState } from '../channels/email/transport-pool.ts';
import { Unhealthy, type Check } from './routes.ts';

export interface EmailHealth {
  /** up: at least one transport can take a send; down: every circuit is open or every transport fails */
  status: 'up' | 'down';
  transports: TransportState[];
}

/** Whether the pool can send, from its transports' states. */
export function emailHealth(transports: TransportState[]): EmailHealth {
  const usable = transports.some((t) => t.status === 'verified' || t.status === 'untried');
  return { status: usable ? 'up' : 'down', transports };
}

export interface EmailCheckDeps {
  /** the e-mail lanes' pool; undefined when this process does not run the email role */
  pool: TransportPool | undefined;
  /** the fallback: verifies the first SMTP_URL */
  verify(): Promise<boolean>;
  /** ms between two rounds of SMTP connections made for health checks (/health needs no login: a call must not cost every transport a connection) */
  verifyEveryMs: number;
}

export function emailCheck(deps: EmailCheckDeps, clock: () => number = Date.now): Check {
  let verifying: { at: number; done: Promise<unknown> } | undefined;
  return {
    name: 'email',
    async run() {
      const { pool } = deps;
      if (!pool) return { source: 'verify', verified: await deps.verify() };
      // Transports a send would use now are connected to, at most every verifyEveryMs (calls in
      // between share the last round), so the answer is recent, not the last send's; an open circuit
      // is left alone (the pool probes it when it has run out).
      if (!verifying || clock() - verifying.at >= deps.verifyEveryMs) {
        const toVerify = pool.state().filter((t) => t.status !== 'circuit-open').map((t) => t.index);
        verifying = { at: clock(), done: toVerify.length > 0 ? pool.verify(toVerify) : Promise.resolve() };
      }
      await verifying.done;
      const health = emailHealth(pool.state());
      if (health.status === 'down') throw new Unhealthy('no SMTP transport is usable: every circuit is open or every transport fails', { source: 'pool', ...health });
      return { source: 'pool', ...health };
    },
  };
}
