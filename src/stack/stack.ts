/**
 * `tidings stack up|down|status`: the local infrastructure. A service whose
 * URL is configured (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL,
 * SMTP_URL) is used as it is and never started here. With all four set this
 * module is not even loaded (src/cli/services.ts), except by `tidings stack`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import type { Endpoints } from '../endpoints.ts';
import { StackError } from '../errors.ts';
import { waitUntil, tail, portOpen } from './process.ts';
import type { StackPaths, StackService } from './service.ts';
import { kafkaService } from './kafka.ts';
import { registryService } from './registry.ts';
import { postgresService } from './postgres.ts';
import { mailService } from './mail.ts';

/** The repository root, two folders above this file. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

// Re-exported for the test harness and the benchmarks, which start the stack themselves.
export type { Endpoints };

type Slot = 'kafka' | 'registry' | 'postgres' | 'smtp';

export function stackPaths(config: Pick<Config, 'stackDir' | 'cacheDir'>): StackPaths {
  const at = (dir: string) => (isAbsolute(dir) ? dir : join(REPO_ROOT, dir));
  return { root: REPO_ROOT, stackDir: at(config.stackDir), cacheDir: at(config.cacheDir) };
}

function services(paths: StackPaths): Record<Slot, StackService> {
  return {
    postgres: postgresService(paths),
    kafka: kafkaService(paths),
    registry: registryService(paths),
    smtp: mailService(paths),
  };
}

/** The services this configuration leaves to the local stack. */
function unconfigured(config: Config): Slot[] {
  const slots: Slot[] = [];
  if (!config.databaseUrl) slots.push('postgres');
  if (!config.kafkaBrokers) slots.push('kafka');
  if (!config.schemaRegistryUrl) slots.push('registry');
  if (!config.smtpUrl) slots.push('smtp');
  return slots;
}

export interface UpReport {
  endpoints: Endpoints;
  /** per service: 'started' with ms, 'running', or 'configured' (not ours) */
  services: { name: string; state: 'started' | 'running' | 'configured'; ms: number; endpoint: string; log?: string }[];
}

/**
 * Installs and starts every unconfigured service that is not already running,
 * in parallel, and waits until each is ready. Safe to call again.
 */
export async function stackUp(config: Config, progress: (line: string) => void = () => {}): Promise<UpReport> {
  const paths = stackPaths(config);
  const all = services(paths);
  const local = unconfigured(config);
  if (local.length > 0) {
    mkdirSync(paths.stackDir, { recursive: true });
    mkdirSync(paths.cacheDir, { recursive: true });
  }
  const report: UpReport['services'] = [];

  await Promise.all(local.map(async (slot) => {
    const service = all[slot];
    const started = Date.now();
    if (await service.isReady().catch(() => false)) {
      report.push({ name: service.name, state: 'running', ms: 0, endpoint: service.endpoint, log: service.logFile });
      return;
    }
    // Something else on our port would answer the readiness check in our place.
    for (const port of service.ports) {
      if (await portOpen(port)) {
        throw new StackError(`${service.name}: port ${port} is taken by another process (another Tidings stack?); stop it, or configure the service's URL to use it`);
      }
    }
    progress(`${service.name}: installing`);
    await service.install();
    progress(`${service.name}: starting`);
    await service.start();
    const ready = await waitUntil(() => service.isReady(), service.startTimeoutMs, 250);
    if (!ready) {
      throw new StackError(`${service.name} was not ready after ${service.startTimeoutMs} ms; last lines of ${service.logFile}:\n${tail(service.logFile)}`);
    }
    const ms = Date.now() - started;
    progress(`${service.name}: ready in ${ms} ms at ${service.endpoint}`);
    report.push({ name: service.name, state: 'started', ms, endpoint: service.endpoint, log: service.logFile });
  }));

  for (const slot of (['postgres', 'kafka', 'registry', 'smtp'] as const).filter((s) => !local.includes(s))) {
    report.push({ name: all[slot].name, state: 'configured', ms: 0, endpoint: 'configured' });
  }
  return { endpoints: endpoints(config), services: report };
}

/** Stops the local services this configuration would start; returns the names it stopped. */
export async function stackDown(config: Config): Promise<string[]> {
  const all = services(stackPaths(config));
  const stopped: string[] = [];
  // Reverse dependency order: clients of the broker first.
  for (const slot of (['smtp', 'registry', 'kafka', 'postgres'] as const).filter((s) => unconfigured(config).includes(s))) {
    if (await all[slot].stop()) stopped.push(all[slot].name);
  }
  return stopped;
}

export async function stackStatus(config: Config): Promise<{ name: string; ready: boolean | 'configured'; endpoint: string; log: string }[]> {
  const all = services(stackPaths(config));
  const local = unconfigured(config);
  return Promise.all((['postgres', 'kafka', 'registry', 'smtp'] as const).map(async (slot) => ({
    name: all[slot].name,
    ready: local.includes(slot) ? await all[slot].isReady().catch(() => false) : ('configured' as const),
    endpoint: local.includes(slot) ? all[slot].endpoint : 'configured',
    log: all[slot].logFile,
  })));
}

/** The configured URL of each service, or the local stack's. */
export function endpoints(config: Config): Endpoints {
  const paths = stackPaths(config);
  const all = services(paths);
  return {
    kafkaBrokers: config.kafkaBrokers ?? [all.kafka.endpoint],
    schemaRegistryUrl: config.schemaRegistryUrl ?? all.registry.endpoint,
    databaseUrl: config.databaseUrl ?? all.postgres.endpoint,
    smtpUrl: config.smtpUrl ?? all.smtp.endpoint,
    jwtSecret: config.jwtSecret ?? localSecret(paths, 'jwt.secret', 'base64url'),
    secretKey: config.secretKey ?? localSecret(paths, 'secret.key', 'base64'),
  };
}

/** 32 random bytes generated once for the local stack, so dev tokens and sealed secrets survive restarts. */
function localSecret(paths: StackPaths, name: string, encoding: 'base64' | 'base64url'): string {
  const file = join(paths.stackDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(paths.stackDir, { recursive: true });
  const secret = randomBytes(32).toString(encoding);
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
