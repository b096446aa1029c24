/**
 * How the commands reach the services. A configuration that names every
 * service is used as it is and src/stack is never loaded (production: nothing
 * is started, no key is generated); otherwise the local stack fills in the
 * rest, loaded on demand. This is the only module outside src/stack and the
 * `stack` command that loads src/stack (test/unit/stack-boundary.test.ts).
 */
import type { Config } from '../config.ts';
import { configuredEndpoints, type Endpoints } from '../endpoints.ts';

/** A service the local stack runs for this configuration. */
export interface LocalService {
  name: string;
  endpoint: string;
  log?: string;
}

/** The endpoints of `config`, without starting anything (the local stack's for what is unset). */
export async function resolveEndpoints(config: Config): Promise<Endpoints> {
  const configured = configuredEndpoints(config);
  if (configured) return configured;
  const { endpoints } = await import('../stack/stack.ts');
  return endpoints(config);
}

/** The endpoints of `config`, after starting the local stack for whatever it does not configure. */
export async function startServices(config: Config, progress: (line: string) => void): Promise<{ endpoints: Endpoints; local: LocalService[] }> {
  const configured = configuredEndpoints(config);
  if (configured) return { endpoints: configured, local: [] };
  const { stackUp } = await import('../stack/stack.ts');
  const report = await stackUp(config, progress);
  const local = report.services.filter((s) => s.state !== 'configured').map((s) => ({ name: s.name, endpoint: s.endpoint, log: s.log }));
  return { endpoints: report.endpoints, local };
}
