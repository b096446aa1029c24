/**
 * A Tidings of its own for one test file: its own topic prefix, consumer
 * groups, transactional ids and database, on the real services of the run.
 */
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { topicNames } from '../../src/kafka/topics.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { groupId, type ProcessorName } from '../../src/topology.ts';
import { ensureDatabase } from '../../src/db/pool.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { startTidings, type Tidings } from '../../src/tidings.ts';
import { createAuthenticator, type Authenticator } from '../../src/auth.ts';
import type { Endpoints } from '../../src/stack/stack.ts';
import type { Resolver } from '../../src/channels/webhook/address-guard.ts';

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
  const id = `${inject('runPrefix')}${randomBytes(3).toString('hex')}`;
  const databaseUrl = await ensureDatabase(shared.databaseUrl, id);
  const env = {
    KAFKA_BROKERS: shared.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: shared.schemaRegistryUrl,
    DATABASE_URL: databaseUrl,
    SMTP_URL: shared.smtpUrl,
    TIDINGS_JWT_SECRET: shared.jwtSecret,
    TIDINGS_SECRET_KEY: shared.secretKey,
    TIDINGS_TOPIC_PREFIX: `${id}.`,
    TIDINGS_PARTITIONS: '2',
    TIDINGS_HTTP_PORT: '0',
    TIDINGS_INSTANCE_ID: id,
    LOG_LEVEL: 'error',
    // agent_offline at once, as other types; test/integration/scheduler.test.ts asks for the offline buffer.
    TIDINGS_AGENT_OFFLINE_BUFFER_MS: '0',
    // Webhook deliveries only where a test asks for them (TIDINGS_ROLES with webhook), to loopback receivers.
    TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,gateway',
    ...extra,
  };
  return { id, env, endpoints: { ...shared, databaseUrl } };
}

/**
 * Host names as the tests' Tidings resolves them, without asking any DNS
 * server (tests send traffic only to loopback): `localhost` is 127.0.0.1,
 * every `<name>.localhost` (RFC 6761) is 127.0.0.2, and nothing else resolves.
 */
export const loopbackResolver: Resolver = async (hostname) => {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  if (name.endsWith('.localhost')) return [{ address: '127.0.0.2', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
};

export async function startHarness(extra: Record<string, string> = {}): Promise<Harness> {
  const settings = await isolatedSettings(extra);
  return startWith(settings);
}

/** Starts (again) a Tidings on settings from isolatedSettings: same topics, groups and database. */
export async function startWith(settings: { id: string; env: Record<string, string>; endpoints: Endpoints }, extra: Record<string, string> = {}, log?: Logger): Promise<Harness> {
  const config = loadConfig({ ...settings.env, ...extra });
  const tidings = await startTidings({ config, endpoints: settings.endpoints, log: log ?? createLogger(config.logLevel), resolve: loopbackResolver });
  return { id: settings.id, config, endpoints: settings.endpoints, tidings, auth: createAuthenticator({ secret: settings.endpoints.jwtSecret }), stop: () => tidings.stop() };
}

export interface TopicRecord<T> {
  partition: number;
  offset: string;
  key: string | undefined;
  value: T | null;
  headers: Record<string, string>;
}

/**
 * Every record of `topic` up to its current end, read with read_committed: what
 * a downstream consumer would see. Values are decoded with `decode`.
 */
export async function readTopic<T>(brokers: string[], topic: string, decode: (value: Buffer) => Promise<T>): Promise<TopicRecord<T>[]> {
  const kafka = new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { low: BigInt(p.low), high: BigInt(p.high) }]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, o]) => o.high > o.low).map(([p]) => p));
  const records: TopicRecord<T>[] = [];
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `test-reader-${randomBytes(6).toString('hex')}`, readUncommitted: false });
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => { done = resolve; });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (BigInt(payload.lastOffset) + 1n >= (ends.get(payload.partition)?.high ?? 0n)) pending.delete(payload.partition);
    if (pending.size === 0) done();
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (BigInt(m.offset) >= (ends.get(batch.partition)?.high ?? 0n)) break;
        const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));
        records.push({ partition: batch.partition, offset: m.offset, key: m.key?.toString(), value: m.value === null ? null : await decode(m.value), headers });
      }
    },
  });
  await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`reading ${topic} took over 30 s`)), 30_000))]);
  await consumer.disconnect();
  return records;
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

/** One call of the REST API of `h` with a bearer token; the body is JSON when given. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, whose shape each test asserts
export async function callApi(h: Harness, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${h.tidings.url}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** A socket and every frame it got, parsed. */
export interface SocketClient { socket: WebSocket; frames: Record<string, unknown>[] }

/** A WebSocket client that records every frame it gets; `url` may have a query already. */
export async function connectClient(url: string, token: string, origin?: string): Promise<SocketClient> {
  const socket = new WebSocket(`${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`, origin ? { origin } : {});
  const frames: Record<string, unknown>[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
  return { socket, frames };
}

/** Offset of the last data record (not a commit marker) per partition. */
async function lastDataOffsets(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  const last = new Map<number, bigint>();
  for (const r of await readTopic(brokers, topic, async () => null)) {
    const offset = BigInt(r.offset);
    if (offset > (last.get(r.partition) ?? -1n)) last.set(r.partition, offset);
  }
  return last;
}

/** What waitUntilProcessed needs to know of a deployment, in this process or another. */
export interface Deployment {
  brokers: string[];
  prefix: string;
  databaseUrl: string;
}

export function deploymentOf(h: Harness): Deployment {
  return { brokers: h.endpoints.kafkaBrokers, prefix: h.config.topicPrefix, databaseUrl: h.endpoints.databaseUrl };
}

/**
 * Waits until nothing is in flight any more along the notification's path:
 * dedupe has committed past every record of notification.events, the router
 * past every record of notification.accepted, and the projector has stored
 * offsets past every record of notification.inbox. Each stage is checked
 * after the one before it caught up, so what it wrote is counted.
 */
export async function waitUntilProcessed(target: Harness | Deployment, timeoutMs = 30_000): Promise<void> {
  const d = 'tidings' in target ? deploymentOf(target) : target;
  const topics = topicNames(d.prefix);
  const kafka = new Kafka({ clientId: 'test-quiescence', brokers: d.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const db = new pg.Client({ connectionString: d.databaseUrl });
  await Promise.all([admin.connect(), db.connect()]);
  const pastEnd = (last: Map<number, bigint>, at: Map<number, bigint>) => [...last].every(([partition, offset]) => (at.get(partition) ?? -1n) > offset);
  const committed = async (processor: ProcessorName, topic: string) => {
    const [offsets] = await admin.fetchOffsets({ groupId: groupId(processor, d.prefix), topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  };
  try {
    await waitFor(async () => {
      if (!pastEnd(await lastDataOffsets(d.brokers, topics.events), await committed('dedupe', topics.events))) return undefined;
      if (!pastEnd(await lastDataOffsets(d.brokers, topics.accepted), await committed('router', topics.accepted))) return undefined;
      const inbox = await lastDataOffsets(d.brokers, topics.inbox);
      const stored = await db.query<{ partition: number; next_offset: string }>(
        'select partition, next_offset from consumer_offsets where group_id = $1 and topic = $2', [groupId('projector', d.prefix), topics.inbox]);
      return pastEnd(inbox, new Map(stored.rows.map((r) => [r.partition, BigInt(r.next_offset)]))) ? true : undefined;
    }, 'dedupe, router and projector to catch up', timeoutMs);
  } finally {
    await Promise.all([admin.disconnect(), db.end()]);
  }
}

/** Waits until the consumer group of `processor` (src/topology.ts) has committed past every record of `topic`. */
export async function waitForConsumed(h: Harness, processor: ProcessorName, topic: string, timeoutMs = 30_000): Promise<void> {
  const kafka = new Kafka({ clientId: 'test-consumed', brokers: h.endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(async () => {
      const last = await lastDataOffsets(h.endpoints.kafkaBrokers, topic);
      const [committed] = await admin.fetchOffsets({ groupId: groupId(processor, h.config.topicPrefix), topics: [topic] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      for (const [partition, offset] of last) if ((at.get(partition) ?? -1n) <= offset) return undefined;
      return true;
    }, `${processor} to consume ${topic}`, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}
