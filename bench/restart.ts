/**
 * Restart after SIGKILL (issue 7), printed, not asserted. Tidings runs as its
 * own process (`tidings start`) on the local stack while this process produces
 * a light stream of events to notification.events. Each round kills Tidings
 * with SIGKILL and at once starts a new one on the same settings, and measures
 * from the new process's spawn to
 *   (a) GET /health/ready answering 200,
 *   (b) the first event published after the kill stored in Postgres,
 *   (c) every event published until (a) and (b) stored, each once;
 * and from the kill to the broker dropping the dead process's group members
 * (the consumer groups' session timeout bounds it). Usage:
 *   npm run bench:restart [-- <rounds> <events per second>]   (defaults 3 50)
 */
import pg from 'pg';
import { createLogger } from '../src/logger.ts';
import { createCodec } from '../src/kafka/codec.ts';
import { createKafka, createProducer } from '../src/kafka/client.ts';
import { eventKey, type NotificationEvent } from '../src/model/notification.ts';
import { childSettings, spawnTidings, waitReady, waitFor, sleep, sleepUntil, quantile, ms, lastOutput, type TidingsChild } from './child.ts';

const ROUNDS = Number(process.argv[2] ?? 3);
const RATE = Number(process.argv[3] ?? 50); // events/s
const STEADY = 5_000; // ms of normal flow before each kill
const WAIT = 120_000; // ms any one wait may take

const settings = await childSettings();
const { topics, endpoints, prefix } = settings;
const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench-restart', log: createLogger('silent') });
const codec = createCodec(endpoints.schemaRegistryUrl);
const producer = createProducer(kafka, {});
const admin = kafka.admin();
const db = new pg.Client({ connectionString: endpoints.databaseUrl });

/** performance.now() when the send of each event began; the index is its seq. */
const sentAt: number[] = [];
let streaming = true;
const sourceId = (seq: number) => `${settings.id}-${seq}`;
const stored = async (seq: number) => (await db.query('select 1 from notifications where source_id = $1', [sourceId(seq)])).rowCount === 1 || undefined;
/** rows and distinct source ids among the events with seq below `end` */
const rowsBelow = async (end: number) => (await db.query<{ rows: number; distinct: number }>(
  "select count(*)::int as rows, count(distinct source_id)::int as distinct from notifications where source_type = 'bench' and (data->>'seq')::int < $1", [end])).rows[0]!;

let child: TidingsChild = spawnTidings(settings);
const results: { ready: number; firstAfterKill: number; allStored: number; expiry: number }[] = [];
try {
  const coldReady = await explained(waitReady(child, settings.url, WAIT), child);
  await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }]);
  await Promise.all([producer.connect(), admin.connect(), db.connect()]);
  const stream = produceStream();
  stream.catch(() => {}); // awaited at the end; until then the waits on Postgres notice a stalled stream
  await explained(waitFor(() => stored(0), 'the first event in Postgres', WAIT), child);
  console.log(`restart: ${ROUNDS} rounds, ${RATE} events/s to ${topics.events}, SIGKILL after ${ms(STEADY)} of steady flow; cold start: ready ${ms(coldReady - child.spawnedAt)} after spawn`);

  for (let round = 1; round <= ROUNDS; round++) {
    await sleep(STEADY);
    const members = await groupMembers();
    child.kill();
    const killedAt = performance.now();
    const firstAfterKill = sentAt.length; // the next event to be sent is the first after the kill
    child = spawnTidings(settings);
    const spawnedAt = child.spawnedAt;
    const [expiry, ready, processed] = await Promise.all([
      expiryOf(members, killedAt),
      explained(waitReady(child, settings.url, WAIT), child),
      explained(waitFor(async () => (sentAt.length > firstAfterKill && (await stored(firstAfterKill)) ? performance.now() : undefined), 'the first event after the kill in Postgres', WAIT), child),
    ]);
    const end = sentAt.filter((at) => at < Math.max(ready, processed)).length;
    const { allAt, rows, distinct } = await explained(waitFor(async () => {
      const r = await rowsBelow(end);
      return r.rows >= end ? { ...r, allAt: performance.now() } : undefined;
    }, `the ${end} events sent until then in Postgres`, WAIT), child);
    results.push({ ready: ready - spawnedAt, firstAfterKill: processed - spawnedAt, allStored: allAt - spawnedAt, expiry: Math.max(...expiry.values()) });
    console.log(`round ${round}: (a) ready ${ms(ready - spawnedAt)}, (b) first event after the kill stored ${ms(processed - spawnedAt)}, `
      + `(c) all ${end.toLocaleString('en')} events stored ${ms(allAt - spawnedAt)} after spawn (${rows} rows, ${distinct} distinct ids); `
      + `dead members expired ${[...expiry].map(([group, t]) => `${group.slice(prefix.length + 'tidings.'.length)} ${ms(t)}`).join(', ')} after the kill`);
  }

  streaming = false;
  await stream;
  const total = sentAt.length;
  const final = await waitFor(async () => { const r = await rowsBelow(total); return r.rows >= total ? r : undefined; }, 'every event in Postgres', WAIT).catch(() => rowsBelow(total));
  const median = (pick: (r: (typeof results)[number]) => number) => ms(quantile(results.map(pick), 0.5));
  console.log(`median of ${results.length}: (a) ready ${median((r) => r.ready)}, (b) first event after the kill ${median((r) => r.firstAfterKill)}, (c) all stored ${median((r) => r.allStored)}; `
    + `dead members expired ${median((r) => r.expiry)} after the kill (last group)`);
  console.log(`exactly once: ${total.toLocaleString('en')} events published, ${final.rows.toLocaleString('en')} rows, ${final.distinct.toLocaleString('en')} distinct source ids`
    + `${final.rows === total && final.distinct === total ? '' : ` — ${total - final.distinct} MISSING, ${final.rows - final.distinct} DUPLICATED`}`);
} finally {
  streaming = false;
  await Promise.allSettled([producer.disconnect(), admin.disconnect(), db.end()]);
  await child.stop();
  await settings.remove();
}

/** Sends one event every 1/RATE s while `streaming`; records when each send began. */
async function produceStream(): Promise<void> {
  const started = performance.now();
  for (let seq = 0; streaming; seq++) {
    await sleepUntil(started + (seq / RATE) * 1_000);
    const event: NotificationEvent = {
      event_id: null, user_id: `user-${seq % 50}`, audience: null, type: 'job_completed', title: `Job ${seq} finished`, message: 'All tasks finished',
      severity: 'info', data: JSON.stringify({ seq }), action_url: null, source_type: 'bench', source_id: sourceId(seq), occurred_at: Date.now(),
    };
    const value = await codec.encode(topics.events, event);
    sentAt.push(performance.now());
    await producer.send({ topic: topics.events, acks: -1, messages: [{ key: eventKey(event), value }] });
  }
}

/** The member ids of every consumer group of this deployment. */
async function groupMembers(): Promise<Map<string, Set<string>>> {
  const ids = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
  const { groups } = await admin.describeGroups(ids);
  return new Map(groups.filter((g) => g.members.length > 0).map((g) => [g.groupId, new Set(g.members.map((m) => m.memberId))]));
}

/** Per group, ms from `killedAt` until the broker no longer lists any of `members`. */
async function expiryOf(members: Map<string, Set<string>>, killedAt: number): Promise<Map<string, number>> {
  const expired = new Map<string, number>();
  await waitFor(async () => {
    const { groups } = await admin.describeGroups([...members.keys()].filter((g) => !expired.has(g)));
    for (const g of groups) if (!g.members.some((m) => members.get(g.groupId)?.has(m.memberId))) expired.set(g.groupId, performance.now() - killedAt);
    return expired.size === members.size ? true : undefined;
  }, 'the broker to drop the dead members', WAIT, 200);
  return expired;
}

/** `wait`, failing with the Tidings process's last output. */
async function explained<T>(wait: Promise<T>, c: TidingsChild): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${lastOutput(c)}`, { cause: err });
  }
}
