/**
 * A burst for one user while others keep receiving (issue 7), printed, not
 * asserted. Tidings runs as its own process (`tidings start`) on the local
 * stack; this process publishes `events` Avro events of about `bytes` bytes for
 * one user to notification.events at `rate` per second, while ~20 other users,
 * on other partitions of notification.accepted, hold a WebSocket and get one
 * event every 50 ms. Prints their publish → frame latency, whether Tidings
 * stayed up, and when the burst reached Postgres. Usage:
 *   npm run bench:burst [-- <events> <bytes> <rate>]   (defaults 20000 2048 1000)
 */
import WebSocket from 'ws';
import pg from 'pg';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { createLogger } from '../src/logger.ts';
import { createAuthenticator } from '../src/auth.ts';
import { createCodec } from '../src/kafka/codec.ts';
import { createKafka, createProducer } from '../src/kafka/client.ts';
import { eventKey, type NotificationEvent } from '../src/model/notification.ts';
import { childSettings, spawnTidings, waitReady, waitFor, sleep, sleepUntil, quantile, ms, describeExit, lastOutput, openSocket } from './child.ts';

const EVENTS = Number(process.argv[2] ?? 20_000);
const BYTES = Number(process.argv[3] ?? 2_048);
const RATE = Number(process.argv[4] ?? 1_000); // events/s
const OTHERS = 20;
const WARM_UP = 60; // events to other users before the burst, across the partitions of notification.events
const PROBE_EVERY = 50; // ms
const CHUNK_EVERY = 50; // ms between two sends of the burst
const PARTITIONS = 6; // TIDINGS_PARTITIONS' default, stated for the child too
const PROBE_WAIT = 30_000; // ms to wait for the last frames after the burst
const STALL = 30_000; // ms without a new row before giving up on Postgres
const POSTGRES_CAP = 600_000; // ms

const settings = await childSettings({ TIDINGS_PARTITIONS: String(PARTITIONS) });
const { topics, endpoints } = settings;
const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench-burst', log: createLogger('silent') });
const codec = createCodec(endpoints.schemaRegistryUrl);
const burstUser = 'burst-user';
const others = otherUsers(burstUser, OTHERS);
const event = (userId: string, sourceId: string, message: string): NotificationEvent => ({
  event_id: null, user_id: userId, audience: null, type: 'job_completed', title: 'Build finished', message,
  severity: 'info', data: null, action_url: null, source_type: 'bench', source_id: sourceId, occurred_at: Date.now(),
});

const child = spawnTidings(settings);
const sockets: WebSocket[] = [];
const burstProducer = createProducer(kafka, {});
const probeProducer = createProducer(kafka, {});
const tap = kafka.consumer({ groupId: `bench-burst-tap-${settings.id}`, readUncommitted: true });
const db = new pg.Client({ connectionString: endpoints.databaseUrl });
try {
  await waitReady(child, settings.url).catch((err: Error) => { throw new Error(`${err.message}\n${lastOutput(child)}`); });
  await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }]);
  await Promise.all([burstProducer.connect(), probeProducer.connect(), db.connect()]);

  // Size the message so that one encoded event is about BYTES bytes.
  const overhead = (await codec.encode(topics.events, event(burstUser, `${settings.id}-burst-${EVENTS}`, ''))).length + 2;
  const message = 'All tasks finished; the full log is attached below. '.repeat(Math.ceil(BYTES / 50)).slice(0, Math.max(1, BYTES - overhead));
  const burst: { key: string; value: Buffer }[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const e = event(burstUser, `${settings.id}-burst-${i}`, message);
    burst.push({ key: eventKey(e), value: await codec.encode(topics.events, e) });
  }
  const averageBytes = burst.reduce((sum, m) => sum + m.value.length, 0) / EVENTS;

  // Publish time per probe source id, and the frame latency once its notification arrives.
  const sentAt = new Map<string, number>();
  const sentWall = new Map<string, number>();
  const latencies: number[] = [];
  // Where a probe's time goes: the CreateTime of its notification.accepted and
  // notification.inbox records (stamped by dedupe and the router as they
  // produce; read uncommitted, so a record is seen before its commit).
  const hops = { accepted: new Map<string, number>(), inbox: new Map<string, number>(), frame: new Map<string, number>() };
  await tap.connect();
  await tap.subscribe({ topics: [topics.accepted, topics.inbox], fromBeginning: true });
  await tap.run({
    eachMessage: async ({ topic, message }) => {
      if (message.value === null || message.key?.toString() === burstUser) return;
      const n = await codec.decode('Notification', message.value);
      (topic === topics.accepted ? hops.accepted : hops.inbox).set(n.source_id, Number(message.timestamp));
    },
  });
  const auth = createAuthenticator({ secret: endpoints.jwtSecret });
  for (const user of others) sockets.push(await openSocket(`${settings.url.replace('http', 'ws')}/v1/ws`, await auth.sign({ userId: user, roles: [] }), (text) => {
    const frame = JSON.parse(text) as Frame;
    const sourceId = frame.type === 'notification' ? frame.notification?.source?.id : undefined;
    const at = sourceId === undefined ? undefined : sentAt.get(sourceId);
    if (at !== undefined) { latencies.push(performance.now() - at); hops.frame.set(sourceId!, Date.now()); }
  }));

  // Warm-up: the first event of a partition meets a processor that has not
  // produced to it yet (transactional producer to initialise, tables to
  // restore). Reported on its own, so that the burst's figures show the burst.
  const warmUp: number[] = [];
  {
    const before = latencies.length;
    for (let i = 0; i < WARM_UP; i++) {
      const e = event(others[i % OTHERS]!, `${settings.id}-warmup-${i}`, 'Warming up');
      sentAt.set(e.source_id, performance.now());
      await probeProducer.send({ topic: topics.events, acks: -1, messages: [{ key: eventKey(e), value: await codec.encode(topics.events, e) }] });
    }
    await waitFor(() => (latencies.length - before >= WARM_UP || child.exit ? true : undefined), 'the warm-up frames', PROBE_WAIT).catch(() => {});
    warmUp.push(...latencies.splice(before));
    sentAt.clear();
  }
  console.log(`warm-up (first events after start, ${warmUp.length} of ${WARM_UP} received): publish → frame p50 ${ms(quantile(warmUp, 0.5))}, max ${ms(warmUp.length > 0 ? Math.max(...warmUp) : Number.NaN)}`);

  console.log(`burst: ${EVENTS.toLocaleString('en')} events of ~${Math.round(averageBytes).toLocaleString('en')} bytes (message ${message.length.toLocaleString('en')} characters) for "${burstUser}" `
    + `(partition ${partitionOf(burstUser)} of ${PARTITIONS}), target ${RATE.toLocaleString('en')}/s; ${OTHERS} other users on partitions ${[...new Set(others.map(partitionOf))].sort().join(',')}, one event every ${PROBE_EVERY} ms`);

  const started = performance.now();
  let diedAt: number | undefined;
  void child.exited.then(() => { diedAt = performance.now(); });
  let burstDone = false;
  const perChunk = Math.max(1, Math.round((RATE * CHUNK_EVERY) / 1_000));
  const publishBurst = (async () => {
    for (let i = 0; i < EVENTS; i += perChunk) {
      await sleepUntil(started + (i / RATE) * 1_000);
      await burstProducer.send({ topic: topics.events, acks: -1, messages: burst.slice(i, i + perChunk) });
    }
    burstDone = true;
    return performance.now() - started;
  })();
  const publishProbes = (async () => {
    for (let i = 0; !burstDone; i++) {
      await sleepUntil(started + i * PROBE_EVERY);
      const e = event(others[i % OTHERS]!, `${settings.id}-probe-${i}`, 'Your report is ready');
      const value = await codec.encode(topics.events, e);
      sentAt.set(e.source_id, performance.now());
      sentWall.set(e.source_id, Date.now());
      await probeProducer.send({ topic: topics.events, acks: -1, messages: [{ key: eventKey(e), value }] });
    }
  })();
  const [published] = await Promise.all([publishBurst, publishProbes]);
  await waitFor(() => (latencies.length >= sentAt.size || child.exit ? true : undefined), 'the other users\' frames', PROBE_WAIT).catch(() => {});

  // Rows of the burst in the run's database, until all are there, Tidings is gone, or no progress for STALL ms.
  let rows = 0;
  let allAt: number | undefined;
  let progressAt = performance.now();
  while (performance.now() - started < POSTGRES_CAP) {
    const exitedBefore = child.exit !== undefined;
    const n = (await db.query<{ n: number }>('select count(*)::int as n from notifications where user_id = $1', [burstUser])).rows[0]!.n;
    if (n > rows) progressAt = performance.now();
    rows = n;
    if (rows >= EVENTS) { allAt = performance.now() - started; break; }
    if (exitedBefore || performance.now() - progressAt > STALL) break;
    await sleep(250);
  }

  console.log(`published ${EVENTS.toLocaleString('en')} in ${ms(published)} (${Math.round((EVENTS / published) * 1_000).toLocaleString('en')}/s)`);
  console.log(`other users: ${latencies.length} of ${sentAt.size} frames received; publish → frame p50 ${ms(quantile(latencies, 0.5))}, p95 ${ms(quantile(latencies, 0.95))}, `
    + `p99 ${ms(quantile(latencies, 0.99))}, max ${ms(latencies.length > 0 ? Math.max(...latencies) : Number.NaN)}`);
  {
    const split = (from: (id: string) => number | undefined, to: (id: string) => number | undefined): number[] =>
      [...sentWall.keys()].flatMap((id) => { const a = from(id); const b = to(id); return a === undefined || b === undefined ? [] : [b - a]; });
    const line = (name: string, xs: number[]): string => `${name} p50 ${ms(quantile(xs, 0.5))} p99 ${ms(quantile(xs, 0.99))}`;
    console.log(`other users, by hop: ${[
      line('publish → accepted', split((id) => sentWall.get(id), (id) => hops.accepted.get(id))),
      line('accepted → inbox', split((id) => hops.accepted.get(id), (id) => hops.inbox.get(id))),
      line('inbox → frame', split((id) => hops.inbox.get(id), (id) => hops.frame.get(id))),
    ].join('; ')}`);
    const bySecond = new Map<number, number[]>();
    for (const [id, t0] of sentWall) { const f = hops.frame.get(id); if (f !== undefined) { const sec = Math.floor(Number(id.split('-').pop()) * PROBE_EVERY / 1000); bySecond.set(sec, [...(bySecond.get(sec) ?? []), f - t0]); } }
    console.log(`max by second of the burst: ${[...bySecond].map(([sec, xs]) => `${sec}:${Math.max(...xs)}`).join(' ')}`);
    // The probes whose frame came last, hop by hop.
    const slow = [...sentWall.keys()].filter((id) => hops.frame.has(id)).sort((a, b) => (hops.frame.get(b)! - sentWall.get(b)!) - (hops.frame.get(a)! - sentWall.get(a)!)).slice(0, 12);
    for (const id of slow) {
      const t0 = sentWall.get(id)!;
      console.log(`  slow probe ${id.split('-').pop()}: accepted +${hops.accepted.get(id)! - t0} inbox +${hops.inbox.get(id)! - t0} frame +${hops.frame.get(id)! - t0} ms`);
    }
  }
  console.log(child.exit ? `tidings: DIED (${describeExit(child)}) ${ms((diedAt ?? performance.now()) - started)} after the burst began` : 'tidings: stayed up');
  console.log(allAt !== undefined
    ? `postgres: all ${EVENTS.toLocaleString('en')} burst notifications stored ${ms(allAt)} after the first publish`
    : `postgres: ${rows.toLocaleString('en')} of ${EVENTS.toLocaleString('en')} burst notifications stored (gave up ${ms(performance.now() - started)} after the first publish: ${child.exit ? 'Tidings is gone' : `no new row for ${ms(STALL)}`})`);
  if (child.exit) console.log(lastOutput(child));
} finally {
  for (const socket of sockets) socket.terminate();
  await Promise.allSettled([tap.disconnect(), burstProducer.disconnect(), probeProducer.disconnect(), db.end()]);
  await child.stop();
  await settings.remove();
}

/** Partition of notification.accepted (keyed by user id) that `userId` lands on: kafkajs' default murmur2 partitioner. */
function partitionOf(userId: string): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return Partitioners.DefaultPartitioner()({ topic: topics.accepted, partitionMetadata, message: { key: userId, value: null } });
}

/** `count` user ids whose partition differs from `userId`'s. */
function otherUsers(userId: string, count: number): string[] {
  const users: string[] = [];
  for (let n = 0; users.length < count; n++) if (partitionOf(`user-${n}`) !== partitionOf(userId)) users.push(`user-${n}`);
  return users;
}

interface Frame { type?: string; notification?: { source?: { id?: string } } }

