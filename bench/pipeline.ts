/**
 * Throughput on this machine, printed, not asserted:
 *   1. raw kafkajs: produce N Avro-encoded events to a fresh topic, then consume them;
 *   2. Tidings: N events through dedupe → router → projector, from the first
 *      produce until the projector has stored every notification and the router
 *      has routed every one.
 * Runs on the local stack (or the configured services). Usage:
 *   npm run bench [-- <events>]
 */
import { randomBytes } from 'node:crypto';
import { Partitioners, CompressionTypes } from 'kafkajs';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { stackUp } from '../src/stack/stack.ts';
import { createLogger } from '../src/logger.ts';
import { ensureDatabase } from '../src/db/pool.ts';
import { createCodec } from '../src/kafka/codec.ts';
import { topicNames } from '../src/kafka/topics.ts';
import { createKafka, createTopicsAndWait } from '../src/kafka/client.ts';
import { startTidings } from '../src/tidings.ts';
import { eventKey, type NotificationEvent } from '../src/model/notification.ts';
import { removeRuns } from '../src/stack/remove-runs.ts';

const N = Number(process.argv[2] ?? 20_000);
const PARTITIONS = 6;
const BATCH = 500;

const base = loadConfig(process.env);
const { endpoints } = await stackUp(base);
const id = `bench${randomBytes(4).toString('hex')}`;
const prefix = `${id}.`;
const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench', log: createLogger('silent') });
const codec = createCodec(endpoints.schemaRegistryUrl);
const topics = topicNames(prefix);

const events: NotificationEvent[] = Array.from({ length: N }, (_, i) => ({
  event_id: null, user_id: `user-${i % 1000}`, audience: null, type: i % 10 === 0 ? 'job_failed' : 'job_completed', title: `Job ${i} finished`,
  message: 'All tasks finished', severity: 'info', data: JSON.stringify({ job_id: i }), action_url: null, source_type: 'job', source_id: `${id}-${i}`, occurred_at: Date.now(),
}));

const rate = (count: number, ms: number) => `${Math.round((count / ms) * 1000).toLocaleString('en')} events/s`;
console.log(`${N.toLocaleString('en')} events, ${PARTITIONS} partitions, batches of ${BATCH}, broker ${endpoints.kafkaBrokers.join(',')}`);

// 1. Raw kafkajs on the same broker, same payloads.
{
  const topic = `${prefix}raw`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
  await admin.disconnect();
  await codec.register([{ topic, schema: 'NotificationEvent' }]);
  const encoded = await Promise.all(events.map(async (e) => ({ key: eventKey(e), value: await codec.encode(topic, e) })));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
  await producer.connect();
  const started = performance.now();
  for (let i = 0; i < encoded.length; i += BATCH) await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: encoded.slice(i, i + BATCH) });
  const produced = performance.now() - started;
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${prefix}raw-reader`, maxWaitTimeInMs: 100 });
  let seen = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => { done = resolve; });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const consumeStart = performance.now();
  await consumer.run({ eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= N) done(); } });
  await finished;
  const consumed = performance.now() - consumeStart;
  await consumer.disconnect();
  console.log(`raw kafkajs   produce ${rate(N, produced)} (${Math.round(produced)} ms)   consume ${rate(N, consumed)} (${Math.round(consumed)} ms, group join included)`);
}

// 2. Tidings: dedupe → router → projector.
{
  const databaseUrl = await ensureDatabase(endpoints.databaseUrl, id);
  const config = loadConfig({ ...process.env, TIDINGS_TOPIC_PREFIX: prefix, TIDINGS_PARTITIONS: String(PARTITIONS), TIDINGS_ROLES: 'dedupe,router,projector', TIDINGS_HTTP_PORT: '0', DATABASE_URL: databaseUrl, LOG_LEVEL: 'error' });
  const tidings = await startTidings({ config, endpoints: { ...endpoints, databaseUrl }, log: createLogger(process.env.BENCH_LOG ?? 'error') });
  await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }]);
  const encoded = await Promise.all(events.map(async (e) => ({ key: eventKey(e), value: await codec.encode(topics.events, e) })));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
  await producer.connect();
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const router = tidings.processors.find((p) => p.name === 'router')!;

  const started = performance.now();
  for (let i = 0; i < encoded.length; i += BATCH) await producer.send({ topic: topics.events, acks: -1, messages: encoded.slice(i, i + BATCH) });
  const produced = performance.now() - started;
  let projectedAt = 0;
  for (;;) {
    const rows = (await db.query('select count(*)::int as n from notifications')).rows[0].n as number;
    if (rows >= N && !projectedAt) projectedAt = performance.now();
    // The router counts a record once the transaction that routed it committed.
    if (projectedAt && router.stats.records >= N) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const total = performance.now() - started;
  console.log(`tidings       ${rate(N, total)} end to end (${Math.round(total)} ms: produce ${Math.round(produced)} ms, all ${N} projected after ${Math.round(projectedAt - started)} ms, all routed after ${Math.round(total)} ms)`);
  await Promise.all([producer.disconnect(), db.end()]);
  await tidings.stop();
}
await removeRuns(endpoints, id);
