/**
 * A Tidings of its own for one test file: its own topic prefix, consumer
 * groups, transactional ids and database, on the real services of the run.
 */
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.ts';
import { ensureDatabase } from '../../src/db/pool.ts';
import { createLogger } from '../../src/logger.ts';
import { startTidings, type Tidings } from '../../src/tidings.ts';
import { createAuthenticator, type Authenticator } from '../../src/auth.ts';
import type { Endpoints } from '../../src/stack/stack.ts';

export interface Harness {
  id: string;
  config: Config;
  endpoints: Endpoints;
  tidings: Tidings;
  auth: Authenticator;
  stop(): Promise<void>;
}

/** Settings for an isolated Tidings on the run's services; `extra` overrides them. */
export async function isolatedSettings(extra: Record<string, string> = {}): Promise<{ id: string; env: Record<string, string>; endpoints: Endpoints }> {
  const shared = inject('endpoints');
  const id = `t${randomBytes(5).toString('hex')}`;
  const databaseUrl = await ensureDatabase(shared.databaseUrl, id);
  const env = {
    KAFKA_BROKERS: shared.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: shared.schemaRegistryUrl,
    DATABASE_URL: databaseUrl,
    SMTP_URL: shared.smtpUrl,
    TIDINGS_JWT_SECRET: shared.jwtSecret,
    TIDINGS_TOPIC_PREFIX: `${id}.`,
    TIDINGS_PARTITIONS: '2',
    TIDINGS_HTTP_PORT: '0',
    TIDINGS_INSTANCE_ID: id,
    LOG_LEVEL: 'error',
    ...extra,
  };
  return { id, env, endpoints: { ...shared, databaseUrl } };
}

export async function startHarness(extra: Record<string, string> = {}): Promise<Harness> {
  const { id, env, endpoints } = await isolatedSettings(extra);
  const config = loadConfig(env);
  const tidings = await startTidings({ config, endpoints, log: createLogger(config.logLevel) });
  return { id, config, endpoints, tidings, auth: createAuthenticator({ secret: endpoints.jwtSecret }), stop: () => tidings.stop() };
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A WebSocket client that records every frame it gets. */
export async function connectClient(url: string, token: string, origin?: string): Promise<{ socket: WebSocket; frames: Record<string, unknown>[] }> {
  const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, origin ? { origin } : {});
  const frames: Record<string, unknown>[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
  return { socket, frames };
}
