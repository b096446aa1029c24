/**
 * `tidings rebuild` throughput on this machine, printed, not asserted: N
 * events go through dedupe → router → projector on a fresh prefix and
 * database (the log and read models a rebuild starts from); that Tidings
 * stops; then `rebuild --yes` runs in this process and is timed from its start
 * (tail reads, truncation, projector start) to the read models complete.
 * Runs on the local stack (or the configured services). Usage:
 *   npm run bench:rebuild [-- <events>]   (default 20000)
 */
import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { stackUp } from '../src/stack/stack.ts';
import { createLogger } from '../src/logger.ts';
import { ensureDatabase } from '../src/db/pool.ts';
import { createCodec } from '../src/kafka/codec.ts';
import { topicNames } from '../src/kafka/topics.ts';
import { createKafka } from '../src/kafka/client.ts';
import { startTidings } from '../src/tidings.ts';
import { eventKey, type NotificationEvent } from '../src/model/notification.ts';
import { rebuildCommand } from '../src/cli/rebuild.ts';
import { removeRuns } from '../src/stack/remove-runs.ts';

const N = Number(process.argv[2] ?? 20_000);
const PARTITIONS = 6;
const BATCH = 500;
const GOAL = 30_000; // notifications/s

const base = loadConfig(process.env);
const { endpoints } = await stackUp(base);
const id = `bench${randomBytes(4).toString('hex')}`;
const prefix = `${id}.`;
const topics = topicNames(prefix);
const databaseUrl = await ensureDatabase(endpoints.databaseUrl, id);
const env = { ...process.env, TIDINGS_TOPIC_PREFIX: prefix, TIDINGS_PARTITIONS: String(PARTITIONS), TIDINGS_ROLES: 'dedupe,router,projector', TIDINGS_HTTP_PORT: '0', DATABASE_URL: databaseUrl, LOG_LEVEL: 'error' };
const config = loadConfig(env);
const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench', log: createLogger('silent') });
const codec = createCodec(endpoints.schemaRegistryUrl);
const db = new pg.Client({ connectionString: databaseUrl });
const count = async () => (await db.query<{ n: number }>('select count(*)::int as n from notifications')).rows[0]!.n;

try {
  console.log(`bench:rebuild: ${N.toLocaleString('en')} events, ${PARTITIONS} partitions, prefix ${prefix}`);
  const tidings = await startTidings({ config, endpoints: { ...endpoints, databaseUrl }, log: createLogger('error') });
  await db.connect();
  const events: NotificationEvent[] = Array.from({ length: N }, (_, i) => ({
    event_id: null, user_id: `user-${i % 1000}`, audience: null, type: i % 10 === 0 ? 'security_password_changed' : 'job_completed', title: `Job ${i} finished`,
    message: 'All tasks finished', severity: 'info', data: JSON.stringify({ job_id: i }), action_url: null, source_type: 'job', source_id: `${id}-${i}`, occurred_at: Date.now(),
  }));
  await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }]);
  const encoded = await Promise.all(events.map(async (e) => ({ key: eventKey(e), value: await codec.encode(topics.events, e) })));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
  await producer.connect();
  const filled = performance.now();
  for (let i = 0; i < encoded.length; i += BATCH) await producer.send({ topic: topics.events, acks: -1, messages: encoded.slice(i, i + BATCH) });
  await producer.disconnect();
  while ((await count()) < N) await new Promise((resolve) => setTimeout(resolve, 100));
  console.log(`  pipeline projected ${N.toLocaleString('en')} notifications in ${Math.round(performance.now() - filled)} ms`);
  await tidings.stop();

  const started = performance.now();
  const code = await rebuildCommand(config, ['--yes']);
  const seconds = (performance.now() - started) / 1_000;
  const rows = await count();
  console.log(`\nsummary (goal ≥ ${GOAL.toLocaleString('en')} notifications/s):`);
  console.log(`  rebuild exited ${code}; ${rows.toLocaleString('en')} notifications rebuilt in ${seconds.toFixed(1)} s: ${Math.round(rows / seconds).toLocaleString('en')} notifications/s (tail reads and projector start included)`);
  console.log(`  goal ≥ ${GOAL.toLocaleString('en')} notifications/s: ${rows / seconds >= GOAL ? 'met' : 'not met'}`);
} finally {
  await db.end().catch(() => undefined);
  await removeRuns(endpoints, id);
}
