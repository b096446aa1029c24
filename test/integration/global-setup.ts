/**
 * Brings up the real services for the integration tests, once per run:
 * the configured ones (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL,
 * SMTP_URL) as they are; otherwise containers when a Docker engine answers and
 * nothing is configured; otherwise the project's local stack. What this run
 * started, it stops. Mail is read back through the project's catcher at the
 * local stack's address, where docker-compose.yml publishes it too.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadConfig, SECRET_SETTINGS, SERVICE_SETTINGS, SETTINGS } from '../../src/config.ts';
import { configuredEndpoints, type Endpoints } from '../../src/endpoints.ts';
import { stackUp, stackDown, endpoints } from '../../src/stack/stack.ts';
import { mailApiUrl } from '../../src/stack/mail.ts';
import { removeRuns } from '../../src/stack/remove-runs.ts';
import { startContainers } from './containers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints;
    mailApiUrl: string;
    /** the start of every topic, subject and database name this run creates (isolatedSettings) */
    runPrefix: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig(withRunSecrets(process.env));
  const runPrefix = `t${randomBytes(2).toString('hex')}`;
  project.provide('runPrefix', runPrefix);
  const nothingConfigured = SERVICE_SETTINGS.every((key) => config[key] === undefined);
  if (nothingConfigured && dockerAvailable()) {
    const containers = await startContainers();
    project.provide('endpoints', containers.endpoints);
    project.provide('mailApiUrl', containers.mailApiUrl);
    return containers.stop;
  }
  project.provide('mailApiUrl', mailApiUrl());
  const configured = configuredEndpoints(config);
  if (configured) {
    project.provide('endpoints', configured);
    return () => removeRun(configured, runPrefix);
  }
  const report = await stackUp(config);
  const started = report.services.filter((s) => s.state === 'started').map((s) => s.name);
  project.provide('endpoints', endpoints(config));
  return async () => {
    await removeRun(endpoints(config), runPrefix);
    // Leave a stack the developer had running; stop one this run started.
    if (started.length > 0 && started.length === report.services.filter((s) => s.state !== 'configured').length) await stackDown(config);
  };
}

/**
 * With every service configured, Tidings needs both secrets; a test run
 * against such services makes up its own when they are not given.
 */
function withRunSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!SERVICE_SETTINGS.every((key) => env[SETTINGS[key].env])) return env;
  const generated = { jwtSecret: randomBytes(32).toString('base64url'), secretKey: randomBytes(32).toString('base64') };
  const secrets = Object.fromEntries(SECRET_SETTINGS.filter((key) => !env[SETTINGS[key].env]).map((key) => [SETTINGS[key].env, generated[key]]));
  return { ...env, ...secrets };
}

/** Deletes what this run's tests created, so that runs against a long-lived stack do not pile up partitions. */
async function removeRun(on: Endpoints, prefix: string): Promise<void> {
  try {
    const removed = await removeRuns(on, prefix);
    process.stdout.write(`removed this run's ${removed.topics} topics, ${removed.subjects} subjects and ${removed.databases} databases\n`);
  } catch (err) {
    process.stderr.write(`could not remove this run's topics and databases (prefix ${prefix}): ${(err as Error).message}\n`);
  }
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
