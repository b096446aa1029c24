/**
 * Exactly-once under failure: a process killed with SIGKILL mid-stream, and
 * two instances sharing the partitions while they rebalance. After either,
 * Postgres holds each notification once and notification.accepted, read with
 * read_committed, holds each once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AssignerProtocol, Kafka } from 'kafkajs';
import { topicNames } from '../../src/kafka/client.ts';
import { createCodec } from '../../src/kafka/codec.ts';
import { createLogger } from '../../src/logger.ts';
import { groupId } from '../../src/topology.ts';
import type { Notification } from '../../src/model/notification.ts';
import { createKafkaTransport, createProducerClient, type EventInput, type ProducerClient } from '../../src/producer/index.ts';
import { isolatedSettings, startWith, waitFor, waitUntilProcessed, readTopic, type Harness } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function events(count: number, tag: string): EventInput[] {
  return Array.from({ length: count }, (_, i) => ({
    user_id: `user-${i % 40}`, type: 'job_completed', title: `Job ${i}`, message: 'done', source_type: 'job', source_id: `${tag}-${i}`,
  }));
}

/** The producer client over Kafka, once the deployment's topics exist. */
async function publisherFor(settings: Awaited<ReturnType<typeof isolatedSettings>>): Promise<ProducerClient> {
  const transport = await createKafkaTransport({
    brokers: settings.endpoints.kafkaBrokers, schemaRegistryUrl: settings.endpoints.schemaRegistryUrl, topicPrefix: settings.env.TIDINGS_TOPIC_PREFIX, clientId: 'test-load', log: createLogger('silent'),
  });
  return createProducerClient({ transport });
}

async function publishAll(publisher: ProducerClient, list: EventInput[]): Promise<void> {
  for (let i = 0; i < list.length; i += 200) await publisher.sendBatch(list.slice(i, i + 200));
}

async function assertExactlyOnce(settings: Awaited<ReturnType<typeof isolatedSettings>>, expected: number): Promise<void> {
  const db = new pg.Client({ connectionString: settings.endpoints.databaseUrl });
  await db.connect();
  const { rows } = await db.query('select count(*)::int as n, count(distinct source_key)::int as keys from notifications');
  await db.end();
  expect(rows[0]).toEqual({ n: expected, keys: expected });
  const codec = createCodec(settings.endpoints.schemaRegistryUrl);
  const log = await readTopic(settings.endpoints.kafkaBrokers, topicNames(settings.env.TIDINGS_TOPIC_PREFIX!).accepted, async (v) => (await codec.decode('Notification', v)) as Notification);
  const ids = log.map((r) => (r.value as Notification).id);
  expect(ids.length).toBe(expected);
  expect(new Set(ids).size).toBe(expected);
}

/**
 * The partitions of `topic` each member of `groupId` holds, by the member's client
 * id ("tidings-a"), once the group is stable; undefined while it rebalances.
 */
async function assignments(brokers: string[], groupId: string, topic: string): Promise<Record<string, number[]> | undefined> {
  const admin = new Kafka({ clientId: 'test-group-reader', brokers, logLevel: 0 }).admin();
  await admin.connect();
  try {
    const { groups: [group] } = await admin.describeGroups([groupId]);
    if (group?.state !== 'Stable') return undefined;
    return Object.fromEntries(group.members.map((m) => {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return [m.clientId, [...(decoded?.assignment[topic] ?? [])].sort((x, y) => x - y)];
    }));
  } finally {
    await admin.disconnect();
  }
}

describe('exactly once', () => {
  const children: ChildProcess[] = [];
  afterAll(() => { for (const c of children) c.kill('SIGKILL'); });

  function startChild(env: Record<string, string>): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    return waitFor(() => (out.includes('Tidings is running at') ? child : undefined), 'the child to start', 90_000);
  }

  it('a processor killed with SIGKILL mid-stream and restarted loses nothing and duplicates nothing', async () => {
    const settings = await isolatedSettings({ TIDINGS_PARTITIONS: '3', TIDINGS_ROLES: 'dedupe,router,projector' });
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings.env, LOG_LEVEL: 'warn' };
    let child = await startChild(env);

    const unique = events(3_000, randomUUID());
    const publisher = await publisherFor(settings);
    // Every event twice: the second copy must be recognised as a duplicate, across the crash too.
    const publishing = publishAll(publisher, [...unique, ...unique]);

    const db = new pg.Client({ connectionString: settings.endpoints.databaseUrl });
    await db.connect();
    const count = async () => (await db.query('select count(*)::int as n from notifications')).rows[0].n as number;
    await waitFor(async () => ((await count()) > 0 ? true : undefined), 'the first rows', 60_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const atKill = await count();
    expect(atKill).toBeLessThan(unique.length); // killed mid-stream, not after the work was done

    await publishing;
    child = await startChild(env);
    await waitUntilProcessed({ brokers: settings.endpoints.kafkaBrokers, prefix: settings.env.TIDINGS_TOPIC_PREFIX!, databaseUrl: settings.endpoints.databaseUrl }, 120_000);
    await db.end();
    await publisher.close();
    await assertExactlyOnce(settings, unique.length);
    child.kill('SIGTERM');
  }, 300_000);

  it('a projector killed right after its database commit applies nothing twice when it comes back', async () => {
    const settings = await isolatedSettings({ TIDINGS_PARTITIONS: '1', TIDINGS_ROLES: 'dedupe,router,projector' });
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings.env, LOG_LEVEL: 'error', TIDINGS_FAILPOINT: 'projector-after-records:21' };
    const child = await startChild(env);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const publisher = await publisherFor(settings);
    const topics = topicNames(settings.env.TIDINGS_TOPIC_PREFIX!);
    const db = new pg.Client({ connectionString: settings.endpoints.databaseUrl });
    await db.connect();
    const count = async () => (await db.query('select count(*)::int as n from notifications')).rows[0].n as number;

    const tag = randomUUID();
    const all = events(50, tag);
    await publishAll(publisher, all.slice(0, 20));
    await waitFor(async () => ((await count()) === 20 ? true : undefined), 'the first commit');
    await publishAll(publisher, all.slice(20, 40)); // the first commit of these kills the child
    expect(await exited).toBe('SIGKILL');
    const atCrash = await count();
    expect(atCrash).toBeGreaterThan(20);

    // The crash came between the database commit and the (advisory) Kafka commit.
    const stored = (await db.query('select next_offset::int as n from consumer_offsets where topic = $1', [topics.inbox])).rows[0].n as number;
    const kafka = new Kafka({ clientId: 'test', brokers: settings.endpoints.kafkaBrokers, logLevel: 0 });
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: groupId('projector', settings.env.TIDINGS_TOPIC_PREFIX ?? ''), topics: [topics.inbox] });
    await admin.disconnect();
    expect(Number(committed?.partitions[0]?.offset)).toBeLessThan(stored);

    const h = await startWith(settings);
    try {
      await publishAll(publisher, all.slice(40));
      await waitUntilProcessed(h, 120_000);
      const projector = h.tidings.processors.find((p) => p.name === 'projector');
      expect(projector?.stats.records).toBe(50 - atCrash); // only what the crashed process had not committed
      expect(projector?.stats.outputs.insert_notification).toBe(50 - atCrash); // counted by kind, once
      expect(await count()).toBe(50);
    } finally {
      await h.stop();
      await publisher.close();
      await db.end();
    }
  }, 300_000);

  it('two instances sharing the partitions, with rebalances in the middle, still deduplicate exactly', async () => {
    const settings = await isolatedSettings({ TIDINGS_PARTITIONS: '4', TIDINGS_ROLES: 'dedupe,router,projector' });
    const topic = topicNames(settings.env.TIDINGS_TOPIC_PREFIX!).events;
    const first = events(600, randomUUID());
    const second = events(600, randomUUID());
    let a: Harness | undefined;
    let b: Harness | undefined;
    let publisher: ProducerClient | undefined;
    try {
      a = await startWith(settings, { TIDINGS_INSTANCE_ID: 'a' });
      publisher = await publisherFor(settings);
      const group = groupId('dedupe', settings.env.TIDINGS_TOPIC_PREFIX ?? '');
      const dedupeOf = (h: Harness) => h.tidings.processors.find((p) => p.name === 'dedupe')!;
      const brokers = settings.endpoints.kafkaBrokers;
      expect(await waitFor(() => assignments(brokers, group, topic), 'A alone in the dedupe group')).toEqual({ 'tidings-a': [0, 1, 2, 3] });
      await publishAll(publisher, first);
      // B joins while A works through the first batch: partitions move from A to B.
      b = await startWith(settings, { TIDINGS_INSTANCE_ID: 'b' });
      const shared = await waitFor(async () => {
        const held = await assignments(brokers, group, topic);
        return held && Object.keys(held).length === 2 ? held : undefined;
      }, 'A and B sharing the dedupe group');
      expect(shared['tidings-a']!.length).toBeGreaterThan(0);
      expect(shared['tidings-b']!.length).toBeGreaterThan(0);
      expect([...shared['tidings-a']!, ...shared['tidings-b']!].sort((x, y) => x - y)).toEqual([0, 1, 2, 3]);
      await publishAll(publisher, [...second, ...first]);
      const instanceA = a;
      await waitFor(() => (dedupeOf(instanceA).stats.records > 0 ? true : undefined), 'A to have deduplicated records');
      // A leaves while B works: its partitions move back.
      await a.stop();
      a = undefined;
      expect(await waitFor(async () => {
        const held = await assignments(brokers, group, topic);
        return held && Object.keys(held).length === 1 ? held : undefined;
      }, 'B alone in the dedupe group')).toEqual({ 'tidings-b': [0, 1, 2, 3] });
      await publishAll(publisher, [...first, ...second]);
      await waitUntilProcessed(b, 120_000);
      expect(dedupeOf(b).stats.records).toBeGreaterThan(0);
      await assertExactlyOnce(settings, first.length + second.length);
    } finally {
      await publisher?.close();
      await a?.stop();
      await b?.stop();
    }
  }, 300_000);
});
