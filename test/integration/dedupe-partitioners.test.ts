/**
 * Dedupe holds whatever partition or key a record arrives with: producers
 * with librdkafka's default partitioner (CRC32, not murmur2), explicit
 * partitions, round-robin, wrong keys; and an audience's recipient meets the
 * same recipient's single-user event. Regression: repeats that landed on
 * another partition than kafkajs would pick passed as new notifications.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { createCodec, type Codec } from '../../src/kafka/codec.ts';
import { partitionOfKey } from '../../src/kafka/client.ts';
import { eventKey, sourceKey, type Notification, type NotificationEvent } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import { isolatedSettings, readTopic, startWith, waitUntilProcessed, type Harness } from './harness.ts';

const PARTITIONS = 4;
const PYTHON_DIR = join(import.meta.dirname, '..', '..', '.cache', 'python');
const PEER = join(import.meta.dirname, 'peers', 'rdkafka-produce.py');

/** confluent-kafka-python (librdkafka) under .cache/python, installed from PyPI on first use. */
function ensureRdkafka(): void {
  const probe = () => spawnSync('python3', ['-c', 'import confluent_kafka'], { env: { ...process.env, PYTHONPATH: PYTHON_DIR } }).status === 0;
  if (existsSync(PYTHON_DIR) && probe()) return;
  execFileSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', PYTHON_DIR, 'confluent-kafka==2.16.1'], { stdio: 'inherit' });
  if (!probe()) throw new Error('confluent-kafka did not import after installing it');
}

describe('dedupe whatever the producer\'s partitioner', () => {
  let h: Harness;
  let codec: Codec;
  let producer: Producer;
  let token: string;

  beforeAll(async () => {
    ensureRdkafka();
    h = await startWith(await isolatedSettings({ TIDINGS_PARTITIONS: String(PARTITIONS) }));
    codec = createCodec(h.endpoints.schemaRegistryUrl);
    await codec.register([{ topic: h.tidings.topics.events, schema: 'NotificationEvent' }]);
    producer = new Kafka({ clientId: 'test-explicit', brokers: h.endpoints.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    token = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
  });
  afterAll(async () => {
    await producer?.disconnect();
    await h?.stop();
  });

  const event = (userId: string | null, sourceId: string, extra: Partial<NotificationEvent> = {}): NotificationEvent => ({
    event_id: null, user_id: userId, audience: null, type: 'job_completed', title: 'Job done', message: 'finished', severity: 'info',
    data: null, action_url: null, source_type: 'job', source_id: sourceId, occurred_at: Date.now(), ...extra,
  });
  const accepted = async () => (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.accepted, async (v) => (await codec.decode('Notification', v)) as Notification))
    .map((r) => r.value as Notification);

  it('repeats published by librdkafka with its default partitioner (CRC32) give one notification each', async () => {
    const run = randomUUID();
    const events = Array.from({ length: 200 }, (_, i) => event(`user-${i % 20}`, `${run}:${i}`));
    const lines = [];
    for (const e of events) {
      const value = (await codec.encode(h.tidings.topics.events, e)).toString('base64');
      lines.push(JSON.stringify({ key: eventKey(e), value }), JSON.stringify({ key: eventKey(e), value }));
    }
    const out = execFileSync('python3', [PEER, h.endpoints.kafkaBrokers.join(','), h.tidings.topics.events], {
      input: `${lines.join('\n')}\n`, env: { ...process.env, PYTHONPATH: PYTHON_DIR }, encoding: 'utf8', timeout: 60_000,
    });
    const placed = out.trim().split('\n').map((l) => JSON.parse(l) as { key: string; partition: number });
    expect(placed).toHaveLength(400);
    // The test proves something only if librdkafka placed keys where murmur2 would not.
    const elsewhere = placed.filter((p) => p.partition !== partitionOfKey(p.key, PARTITIONS));
    expect(elsewhere.length).toBeGreaterThan(100);
    // And a third copy of each from a Java-compatible producer, on the partition murmur2 picks.
    for (const e of events) await h.tidings.publisher.publish(h.tidings.topics.events, eventKey(e), e);
    await waitUntilProcessed(h, 60_000);

    const mine = (await accepted()).filter((n) => n.source_id.startsWith(`${run}:`));
    expect(mine).toHaveLength(200);
    expect(new Set(mine.map((n) => n.id)).size).toBe(200);
    for (const n of mine) expect(n.id).toBe(stableId(sourceKey(n, n.user_id)));
  });

  it('the same event on every partition, round-robin, under a wrong key and under no key gives one notification', async () => {
    const run = randomUUID();
    const events = Array.from({ length: 20 }, (_, i) => event(`user-${i}`, `${run}:${i}`));
    const messages = [];
    for (const [i, e] of events.entries()) {
      const value = await codec.encode(h.tidings.topics.events, e);
      for (let p = 0; p < PARTITIONS; p++) messages.push({ key: eventKey(e), value, partition: p });
      messages.push({ key: eventKey(e), value, partition: i % PARTITIONS });
      messages.push({ key: `wrong-${randomUUID()}`, value, partition: (i + 1) % PARTITIONS });
      messages.push({ key: null, value, partition: (i + 2) % PARTITIONS });
    }
    await producer.send({ topic: h.tidings.topics.events, messages });
    await waitUntilProcessed(h, 60_000);
    const mine = (await accepted()).filter((n) => n.source_id.startsWith(`${run}:`));
    expect(mine.map((n) => n.source_id).sort()).toEqual(events.map((e) => e.source_id).sort());
  });

  it('an audience\'s recipient and the same recipient\'s single-user event are one notification, whichever comes first', async () => {
    const post = async (body: unknown) => {
      const response = await fetch(`${h.tidings.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBe(202);
    };
    const users = Array.from({ length: 6 }, (_, i) => `member-${i}-${randomUUID()}`);
    const audienceFirst = randomUUID();
    const singleFirst = randomUUID();
    const common = { type: 'maintenance_announcement', title: 'Maintenance', message: 'Down at 02:00 UTC', source_type: 'maintenance' };
    await post({ ...common, source_id: audienceFirst, audience: { user_ids: users } });
    await waitUntilProcessed(h, 60_000);
    for (const user of users) await post({ ...common, source_id: audienceFirst, user_id: user });
    for (const user of users) await post({ ...common, source_id: singleFirst, user_id: user });
    await waitUntilProcessed(h, 60_000);
    await post({ ...common, source_id: singleFirst, audience: { user_ids: users } });
    await waitUntilProcessed(h, 60_000);

    const log = await accepted();
    for (const source of [audienceFirst, singleFirst]) {
      const mine = log.filter((n) => n.source_id === source);
      expect(mine.map((n) => n.user_id).sort()).toEqual([...users].sort());
    }
  });
});
