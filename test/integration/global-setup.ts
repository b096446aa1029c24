/**
 * Brings up the real services for the integration tests, once per run:
 * the configured ones (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL,
 * SMTP_URL) as they are; otherwise containers when a Docker engine answers and
 * nothing is configured; otherwise the project's local stack. What this run
 * started, it stops.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../src/config.ts';
import { stackUp, stackDown, endpoints, type Endpoints } from '../../src/stack/stack.ts';
import { mailApiUrl } from '../../src/stack/mail.ts';
import { startContainers } from './containers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints;
    mailApiUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig(process.env);
  const nothingConfigured = !config.kafkaBrokers && !config.schemaRegistryUrl && !config.databaseUrl && !config.smtpUrl;
  if (nothingConfigured && dockerAvailable()) {
    const containers = await startContainers();
    project.provide('endpoints', containers.endpoints);
    project.provide('mailApiUrl', containers.mailApiUrl);
    return containers.stop;
  }
  const report = await stackUp(config);
  const started = report.services.filter((s) => s.state === 'started').map((s) => s.name);
  project.provide('endpoints', endpoints(config));
  project.provide('mailApiUrl', mailApiUrl());
  return async () => {
    // Leave a stack the developer had running; stop one this run started.
    if (started.length > 0 && started.length === report.services.filter((s) => s.state !== 'configured').length) await stackDown(config);
  };
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
