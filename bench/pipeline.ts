/**
 * Throughput on this machine, printed, not asserted. For each size N:
 *   1. raw kafkajs: after a warm-up on a topic of its own, N Avro-encoded
 *      events (the payloads Tidings gets) produced to a fresh 6-partition
 *      topic (sends of 500, acks=-1, idempotent), then consumed from the
 *      beginning by a fresh group; raw rate = N / (produce ms + consume ms);
 *   2. Tidings ("core"): one or two Tidings processes of their own (roles
 *      dedupe, router, projector; 6 partitions), after a warm-up; N events
 *      published flat out, timed from the first send until every one is a row
 *      of `notifications` in the run's database (the projector reads only
 *      what the router committed, so N rows means N routed). Peak RSS and CPU
 *      time of each process are read from /proc before it is stopped.
 * Then, for the first size, the same with delivery (roles plus webhook and
 * email, e-mail rate limits off): 1,000 users with an address and a generic
 * webhook endpoint, N job_failed events, timed until N rows, N webhook
 * deliveries (a keep-alive sink on 127.0.0.2) and N e-mails (an SMTP server
 * on 127.0.0.1) have arrived. The last lines are the figures of the first
 * size and `ratio <x>` (Tidings / raw). Everything the run created is deleted.
 * Usage:
 *   npm run bench [-- <sizes> <processes> <sinks>]
 *   (sizes a comma list, default 20000; processes 1 or 2, default 1;
 *   sinks: sinks or nosinks, default sinks)
 */
import pg from 'pg';
import { createLogger } from '../src/logger.ts';
import { loadConfig } from '../src/config.ts';
import { stackUp } from '../src/stack/stack.ts';
import { createCodec } from '../src/kafka/codec.ts';
import { createKafka, createProducer, createTopicsAndWait, withAdmin } from '../src/kafka/client.ts';
import type { NotificationEvent } from '../src/model/notification.ts';
import type { WebhookEndpoints } from '../src/model/routing.ts';
import { createSecretBox } from '../src/secret-box.ts';
import {
  childSettings, replicaSettings, spawnTidings, waitReady, waitRouterConsumed, encodeEvents, publishAtRate, processUsage, startSink, startSmtp,
  sleep, count, ms, describeExit, lastOutput, SINK_HOST, type ChildSettings, type TidingsChild, type Outgoing, publishRecipients, webhookEndpoint,
} from './child.ts';

const SIZES = (process.argv[2] ?? '20000').split(',').map(Number);
const PROCESSES = Number(process.argv[3] ?? 1);
const SINKS = process.argv[4] ?? 'sinks';
if (!SIZES.every((n) => Number.isInteger(n) && n > 0) || ![1, 2].includes(PROCESSES) || !['sinks', 'nosinks'].includes(SINKS)) {
  throw new RangeError('usage: npm run bench [-- <sizes, e.g. 20000,100000> <processes: 1 or 2> <sinks or nosinks>]');
}
const PARTITIONS = 6;
const BATCH = 500; // records per raw send; publishAtRate sends 500 at a time flat out as well
const USERS = 1_000;
const RAW_WARM = 2_000; // events through the raw warm-up topic
const WARM = 600; // events through Tidings before a measurement, one per user
const STALL = 60_000; // ms without progress before giving up

const { endpoints } = await stackUp(loadConfig(process.env));
const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench', log: createLogger('silent') });
const codec = createCodec(endpoints.schemaRegistryUrl);
const perSecond = (n: number, took: number) => (n / took) * 1_000;
const rate = (n: number, took: number) => `${count(perSecond(n, took))} events/s`;
/** Tidings' rate over the raw one: raw ms over Tidings ms; "-" when a figure is missing. */
const ratio = (rawMs: number, tidingsMs: number) => (Number.isNaN(rawMs / tidingsMs) ? '-' : (rawMs / tidingsMs).toFixed(2));

/** Today's payloads: users round robin, every 10th job failed, unique source ids `<run>-<i>`. */
function coreEvents(run: string, n: number, users = USERS): NotificationEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    event_id: null, user_id: `user-${i % users}`, audience: null, type: i % 10 === 0 ? 'job_failed' : 'job_completed', title: `Job ${i} finished`,
    message: 'All tasks finished', severity: 'info', data: JSON.stringify({ job_id: i }), action_url: null, source_type: 'job', source_id: `${run}-${i}`, occurred_at: Date.now(),
  }));
}

/** Failed builds, e-mailed by default; the source id is in the title, so in the Subject. */
function failedEvents(run: string, n: number, users = USERS): NotificationEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    event_id: null, user_id: `user-${i % users}`, audience: null, type: 'job_failed', title: `Build ${run}-${i} failed`, message: 'Step 3 of 7 exited with code 1',
    severity: 'error', data: null, action_url: null, source_type: 'bench', source_id: `${run}-${i}`, occurred_at: Date.now(),
  }));
}

interface Raw { produceMs: number; consumeMs: number; total: number }

/** Topics `<run id>raw.*`: outside the child's prefix `<run id>.`, inside what settings.remove() deletes. */
async function measureRaw(settings: ChildSettings, n: number): Promise<Raw> {
  const warmTopic = `${settings.id}raw.warm`;
  const topic = `${settings.id}raw.events`;
  await withAdmin(kafka, (admin) => createTopicsAndWait(admin, [warmTopic, topic].map((t) => ({ topic: t, numPartitions: PARTITIONS, replicationFactor: 1 }))));
  await codec.register([{ topic: warmTopic, schema: 'NotificationEvent' }, { topic, schema: 'NotificationEvent' }]);
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  try {
    const produce = async (to: string, messages: Outgoing[]) => {
      const started = performance.now();
      for (let i = 0; i < messages.length; i += BATCH) await producer.send({ topic: to, acks: -1, messages: messages.slice(i, i + BATCH).map(({ key, value }) => ({ key, value })) });
      return performance.now() - started;
    };
    await produce(warmTopic, await encodeEvents(codec, warmTopic, coreEvents(`${settings.id}-rawwarm`, RAW_WARM)));
    await consumeAll(`${settings.id}raw-warm`, warmTopic, RAW_WARM);
    const produceMs = await produce(topic, await encodeEvents(codec, topic, coreEvents(settings.id, n)));
    const consumeMs = await consumeAll(`${settings.id}raw-reader`, topic, n);
    console.log(`  raw kafkajs: produce ${rate(n, produceMs)} (${ms(produceMs)}), consume ${rate(n, consumeMs)} (${ms(consumeMs)}, group join included)`);
    return { produceMs, consumeMs, total: produceMs + consumeMs };
  } finally {
    await producer.disconnect();
  }
}

/** Reads `topic` from the beginning in a fresh group until `n` records came; the ms from run() on. */
async function consumeAll(groupId: string, topic: string, n: number): Promise<number> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  let seen = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => { done = resolve; });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const started = performance.now();
    await consumer.run({ eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= n) done(); } });
    await finished;
    return performance.now() - started;
  } finally {
    await consumer.disconnect();
  }
}

interface Usage { peakRssMiB: number; cpuSeconds: number }

/** `processes` Tidings processes on `settings`, started one after the other (each runs the migrations and creates the topics), all ready. */
async function startChildren(settings: ChildSettings, processes: number, started: TidingsChild[]): Promise<ChildSettings[]> {
  const all = [settings];
  for (let n = 2; n <= processes; n++) all.push(await replicaSettings(settings, n));
  for (const s of all) {
    const child = spawnTidings(s);
    started.push(child);
    await waitReady(child, s.url).catch((err: Error) => { throw new Error(`${err.message}\n${lastOutput(child)}`); });
  }
  return all;
}

/** CPU s of each child so far, to subtract: the figures count the measured window only. */
const cpuNow = (children: TidingsChild[]) => children.map((c) => processUsage(c.pid)?.cpuSeconds ?? Number.NaN);

/** Reads each child's peak RSS and its CPU s since `cpuBefore`, then stops them all. */
async function stopChildren(children: TidingsChild[], cpuBefore: number[]): Promise<Usage[]> {
  const usage = children.map((c, i) => {
    const now = processUsage(c.pid);
    return { peakRssMiB: now?.peakRssMiB ?? Number.NaN, cpuSeconds: (now?.cpuSeconds ?? Number.NaN) - cpuBefore[i]! };
  });
  await Promise.all(children.map((c) => c.stop()));
  return usage;
}

/**
 * Polls every part's count every `intervalMs` until each reaches `n`; the ms
 * after `started` at which each did (NaN: never). Gives up when nothing moved
 * for 60 s or a child exited, and says what was missing.
 */
async function waitAll(parts: Record<string, () => Promise<number> | number>, n: number, started: number, children: TidingsChild[], intervalMs: number): Promise<Record<string, number>> {
  const at: Record<string, number> = Object.fromEntries(Object.keys(parts).map((k) => [k, Number.NaN]));
  const last: Record<string, number> = {};
  let progressAt = performance.now();
  for (;;) {
    for (const [name, probe] of Object.entries(parts)) {
      if (!Number.isNaN(at[name]!)) continue;
      const value = await probe();
      if (value !== last[name]) { last[name] = value; progressAt = performance.now(); }
      if (value >= n) at[name] = performance.now() - started;
    }
    if (Object.values(at).every((t) => !Number.isNaN(t))) return at;
    const dead = children.find((c) => c.exit);
    if (dead || performance.now() - progressAt > STALL) {
      const missing = Object.entries(last).filter(([name]) => Number.isNaN(at[name]!)).map(([name, v]) => `${name} ${count(n - v)} of ${count(n)} missing`);
      console.log(`  gave up (${dead ? `a Tidings process exited, ${describeExit(dead)}` : `nothing new for ${ms(STALL)}`}): ${missing.join(', ')}`);
      if (dead) console.log(lastOutput(dead));
      return at;
    }
    await sleep(intervalMs);
  }
}

/** Rows in `notifications` of the run's database. */
async function rowCount(db: pg.Client): Promise<number> {
  return (await db.query<{ n: number }>('select count(*)::int as n from notifications')).rows[0]!.n;
}

/** count(*) scans the rows, so large runs poll less often (ms) to leave Postgres to the projector. */
const pollEvery = (n: number) => (n <= 100_000 ? 50 : 250);

/** "process 1: peak RSS 375 MiB, CPU 3.4 s in the 3,794 ms measured (90 % of a core)" */
function usageLine(usage: Usage[], took: number): string {
  return usage.map((u, i) => `process ${i + 1}: peak RSS ${count(u.peakRssMiB)} MiB, CPU ${u.cpuSeconds.toFixed(1)} s in the ${ms(took)} measured (${count((u.cpuSeconds * 100_000) / took)} % of a core)`).join('; ');
}

interface Core { took: number; produceMs: number; usage: Usage[] }

async function measureCore(settings: ChildSettings, n: number, processes: number): Promise<Core> {
  const children: TidingsChild[] = [];
  const producer = createProducer(kafka, { idempotent: true });
  const db = new pg.Client({ connectionString: settings.endpoints.databaseUrl });
  let usage: Usage[] | undefined;
  try {
    await startChildren(settings, processes, children);
    await Promise.all([producer.connect(), db.connect(), codec.register([{ topic: settings.topics.events, schema: 'NotificationEvent' }])]);
    const rows = () => rowCount(db);

    const warmStart = performance.now();
    await publishAtRate(producer, settings.topics.events, await encodeEvents(codec, settings.topics.events, coreEvents(`${settings.id}-warm`, WARM, WARM)), 0, () => {});
    await waitAll({ rows }, WARM, warmStart, children, 50);
    const baseline = await rows();
    console.log(`  tidings: ${processes} process${processes > 1 ? 'es' : ''} (pid ${children.map((c) => c.pid).join(', ')}); warm-up: ${count(baseline)} of ${WARM} rows in ${ms(performance.now() - warmStart)}`);

    const messages = await encodeEvents(codec, settings.topics.events, coreEvents(settings.id, n));
    const cpuBefore = cpuNow(children);
    const started = performance.now();
    const produceMs = await publishAtRate(producer, settings.topics.events, messages, 0, () => {});
    const { rows: took } = await waitAll({ rows: async () => (await rows()) - baseline }, n, started, children, pollEvery(n));
    usage = await stopChildren(children, cpuBefore);
    console.log(`  tidings: produce ${ms(produceMs)} (${rate(n, produceMs)}), all ${count(n)} in Postgres after ${ms(took!)}: ${rate(n, took!)}; `
      + usageLine(usage, took!));
    return { took: took!, produceMs, usage };
  } finally {
    await Promise.allSettled([producer.disconnect(), db.end()]);
    if (!usage) await Promise.all(children.map((c) => c.stop()));
  }
}

/** The core roles plus webhook and email; every event must also reach the webhook sink and the SMTP server. */
async function measureWithSinks(n: number, processes: number): Promise<{ took: number; usage: Usage[] }> {
  const run = { webhooks: new Set<string>(), emails: new Set<string>() };
  const warm = { webhooks: new Set<string>(), emails: new Set<string>() };
  const into = (sets: keyof typeof run, id: string | undefined) => { if (id !== undefined) (id.includes('-warm-') ? warm : run)[sets].add(id); };
  const sink = await startSink((body) => into('webhooks', (JSON.parse(body) as { data?: { source?: { id?: string } } }).data?.source?.id));
  const smtp = await startSmtp((subject) => into('emails', /Build (\S+) failed/.exec(subject)?.[1]));
  const children: TidingsChild[] = [];
  const producer = createProducer(kafka, { idempotent: true });
  let settings: ChildSettings | undefined;
  let db: pg.Client | undefined;
  let usage: Usage[] | undefined;
  try {
    settings = await childSettings({
      TIDINGS_ROLES: 'dedupe,router,projector,webhook,email', TIDINGS_PARTITIONS: String(PARTITIONS),
      TIDINGS_EMAIL_RATE_PER_SECOND: '0', TIDINGS_EMAIL_RATE_PER_DAY: '0', SMTP_URL: smtp.url, TIDINGS_WEBHOOK_ALLOWED_NETWORKS: `${SINK_HOST}/32`,
    });
    const { topics, id } = settings;
    db = new pg.Client({ connectionString: settings.endpoints.databaseUrl });
    await startChildren(settings, processes, children);
    await Promise.all([producer.connect(), db.connect(), codec.register([
      { topic: topics.events, schema: 'NotificationEvent' }, { topic: topics.recipients, schema: 'Recipient' }, { topic: topics.webhooks, schema: 'WebhookEndpoints' },
    ])]);
    const client = db;
    const rows = () => rowCount(client);

    // Addresses and endpoint sets straight to their topics, as the API would publish them.
    const secrets = createSecretBox(settings.endpoints.secretKey);
    const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
    await publishRecipients(kafka, producer, codec, settings, users);
    const sets = await Promise.all(users.map(async (user) => {
      const value: WebhookEndpoints = { user_id: user, updated_at: Date.now(), endpoints: [webhookEndpoint(secrets, user, 'main', `${sink.url}/hooks/${user}`)] };
      return { key: user, value: await codec.encode(topics.webhooks, value) };
    }));
    await producer.send({ topic: topics.webhooks, acks: -1, messages: sets });
    await waitRouterConsumed(kafka, settings, topics.webhooks);

    const warmStart = performance.now();
    await publishAtRate(producer, topics.events, await encodeEvents(codec, topics.events, failedEvents(`${id}-warm`, WARM, WARM)), 0, () => {});
    await waitAll({ rows, webhooks: () => warm.webhooks.size, emails: () => warm.emails.size }, WARM, warmStart, children, 50);
    const baseline = await rows();
    console.log(`  with sinks: warm-up in ${ms(performance.now() - warmStart)} (${count(baseline)} rows, ${warm.webhooks.size} webhooks, ${warm.emails.size} e-mails)`);

    const messages = await encodeEvents(codec, topics.events, failedEvents(id, n));
    const cpuBefore = cpuNow(children);
    const started = performance.now();
    const produceMs = await publishAtRate(producer, topics.events, messages, 0, () => {});
    const at = await waitAll({ rows: async () => (await rows()) - baseline, webhooks: () => run.webhooks.size, emails: () => run.emails.size }, n, started, children, pollEvery(n));
    usage = await stopChildren(children, cpuBefore);
    const took = Math.max(at.rows!, at.webhooks!, at.emails!); // NaN when one never completed
    console.log(`  with sinks: produce ${ms(produceMs)}; all in Postgres after ${ms(at.rows!)}, all webhooks after ${ms(at.webhooks!)}, all e-mails after ${ms(at.emails!)}; `
      + `${smtp.connections()} SMTP connections; ${usageLine(usage, took)}`);
    return { took, usage };
  } finally {
    await Promise.allSettled([producer.disconnect(), db?.end()]);
    if (!usage) await Promise.all(children.map((c) => c.stop()));
    await Promise.allSettled([sink.close(), smtp.close()]);
    await settings?.remove();
  }
}

const rss = (usage: Usage[]) => usage.map((u) => count(u.peakRssMiB)).join(' + ');
const cpu = (usage: Usage[]) => usage.map((u) => u.cpuSeconds.toFixed(1)).join(' + ');

console.log(`bench: sizes ${SIZES.map(count).join(', ')}; ${PROCESSES} Tidings process${PROCESSES > 1 ? 'es' : ''}; ${PARTITIONS} partitions; `
  + `sends of ${BATCH}; ${USERS} users; broker ${endpoints.kafkaBrokers.join(',')}`);
const results: { n: number; raw: Raw; core: Core }[] = [];
for (const n of SIZES) {
  console.log(`\n${count(n)} events`);
  const settings = await childSettings({ TIDINGS_ROLES: 'dedupe,router,projector', TIDINGS_PARTITIONS: String(PARTITIONS) });
  try {
    const raw = await measureRaw(settings, n);
    results.push({ n, raw, core: await measureCore(settings, n, PROCESSES) });
  } finally {
    await settings.remove();
  }
}
const first = results[0]!;
let sinks: { took: number } | undefined;
if (SINKS === 'sinks') {
  console.log(`\n${count(first.n)} events with webhook and e-mail delivery`);
  sinks = await measureWithSinks(first.n, PROCESSES);
}

console.log('\ncost growth:');
const columns = ['events', 'raw events/s', 'tidings events/s', 'ratio', 'peak RSS MiB', 'CPU s (measured)'];
const table = [columns, ...results.map(({ n, raw, core }) => [
  count(n), count(perSecond(n, raw.total)), count(perSecond(n, core.took)), ratio(raw.total, core.took), rss(core.usage), cpu(core.usage),
])];
const widths = columns.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
for (const row of table) console.log(`  ${row.map((cell, i) => cell.padStart(widths[i]!)).join('   ')}`);

const { n, raw, core } = first;
console.log(`raw produce→consume: ${count(n)} events in ${ms(raw.total)} (produce ${ms(raw.produceMs)}, consume ${ms(raw.consumeMs)}): ${rate(n, raw.total)}`);
console.log(`tidings end to end: ${count(n)} events in ${ms(core.took)}: ${rate(n, core.took)} (${PROCESSES} process${PROCESSES > 1 ? 'es' : ''}, peak RSS ${rss(core.usage)} MiB)`);
if (sinks) console.log(`tidings with sinks: ${count(n)} events in ${ms(sinks.took)}: ${rate(n, sinks.took)} (webhook and e-mail sinks on loopback)`);
console.log(`ratio ${ratio(raw.total, core.took)}`);
if (sinks) console.log(`ratio with sinks ${ratio(raw.total, sinks.took)}`);
