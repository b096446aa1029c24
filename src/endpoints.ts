/**
 * Where Tidings finds every external service, and the secrets it runs with.
 * A configuration that names every service is complete on its own; anything
 * less is filled in by the local stack (src/stack), which only the CLI loads.
 */
import type { Config } from './config.ts';

/** Where every external service is: configured, or the local stack's. */
export interface Endpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  databaseUrl: string;
  smtpUrl: string;
  jwtSecret: string;
  /** base64 key of the secret box (webhook signing secrets) */
  secretKey: string;
}

/**
 * The endpoints of a configuration that sets every service URL and both
 * secrets (loadConfig requires the secrets once every URL is set);
 * undefined when anything is left to the local stack.
 */
export function configuredEndpoints(config: Config): Endpoints | undefined {
  const { kafkaBrokers, schemaRegistryUrl, databaseUrl, smtpUrl, jwtSecret, secretKey } = config;
  if (!kafkaBrokers || !schemaRegistryUrl || !databaseUrl || !smtpUrl || !jwtSecret || !secretKey) return undefined;
  return { kafkaBrokers: [...kafkaBrokers], schemaRegistryUrl, databaseUrl, smtpUrl, jwtSecret, secretKey };
}
