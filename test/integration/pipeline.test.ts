/**
 * One event the whole way: kafkajs producer (Avro, Confluent wire format) →
 * notification.events → dedupe → notification.accepted → router →
 * notification.inbox → projector → Postgres, and → gateway → a WebSocket
 * client holding a JWT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, type Producer } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import pg from 'pg';
import { readSchema } from '../../src/kafka/codec.ts';
import { eventKey, sourceKey, type NotificationEvent } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import { startHarness, waitFor, connectClient, type Harness } from './harness.ts';

describe('one event end to end', () => {
  let h: Harness;
  let producer: Producer;
  let registry: SchemaRegistry;
  let db: pg.Pool;
  let schemaId: number;

  beforeAll(async () => {
    h = await startHarness();
    const kafka = new Kafka({ clientId: 'test-producer', brokers: h.endpoints.kafkaBrokers, logLevel: 0 });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    registry = new SchemaRegistry({ host: h.endpoints.schemaRegistryUrl });
    ({ id: schemaId } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(readSchema('NotificationEvent')) },
      { subject: `${h.tidings.topics.events}-value` },
    ));
    db = new pg.Pool({ connectionString: h.endpoints.databaseUrl });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await db?.end();
    await h?.stop();
  });

  const event = (userId: string, overrides: Partial<NotificationEvent> = {}): NotificationEvent => ({
    event_id: randomUUID(),
    user_id: userId,
    audience: null,
    type: 'job_completed',
    title: 'Job finished',
    message: 'All 3 tasks finished',
    severity: 'success',
    data: JSON.stringify({ job_id: 42 }),
    action_url: 'https://example.test/jobs/42',
    source_type: 'job',
    source_id: randomUUID(),
    occurred_at: Date.now(),
    ...overrides,
  });

  const produce = async (e: NotificationEvent) => {
    await producer.send({ topic: h.tidings.topics.events, messages: [{ key: eventKey(e), value: await registry.encode(schemaId, e) }] });
  };

  const rowsOf = async (userId: string) => (await db.query('select * from notifications where user_id = $1 order by created_at', [userId])).rows;

  it('an Avro event produced with kafkajs reaches Postgres and the WebSocket client of its user', async () => {
    const user = `user-${randomUUID()}`;
    const client = await connectClient(h.tidings.wsUrl, await h.auth.sign({ userId: user, roles: [] }));
    const other = await connectClient(h.tidings.wsUrl, await h.auth.sign({ userId: `other-${randomUUID()}`, roles: [] }));
    const e = event(user);

    await produce(e);

    const frame = await waitFor(() => client.frames.find((f) => f.type === 'notification'), 'a notification frame');
    expect(frame).toMatchObject({
      type: 'notification',
      notification: {
        id: stableId(sourceKey(e, user)),
        type: 'job_completed',
        category: 'job',
        severity: 'success',
        title: 'Job finished',
        message: 'All 3 tasks finished',
        data: { job_id: 42 },
        action_url: 'https://example.test/jobs/42',
        source: { type: 'job', id: e.source_id },
        read: false,
      },
    });
    const rows = await waitFor(async () => ((await rowsOf(user)).length === 1 ? rowsOf(user) : undefined), 'the notification row');
    expect(rows[0]).toMatchObject({ id: stableId(sourceKey(e, user)), user_id: user, type: 'job_completed', category: 'job', source_key: sourceKey(e, user), data: { job_id: 42 } });
    expect(other.frames.filter((f) => f.type === 'notification')).toEqual([]);
    client.socket.close();
    other.socket.close();
  });

  it('stores the projection offsets in Postgres with the rows', async () => {
    const user = `user-${randomUUID()}`;
    await produce(event(user));
    await waitFor(async () => ((await rowsOf(user)).length === 1 ? true : undefined), 'the row');
    // Transactions leave commit markers in the log, so offsets are not dense:
    // the stored offset of each partition is one past the last row applied from it.
    const stored = await db.query('select topic, partition, next_offset::int as next from consumer_offsets where topic = $1 order by partition', [h.tidings.topics.inbox]);
    const applied = await db.query('select kafka_partition as partition, max(kafka_offset)::int + 1 as next from notifications group by kafka_partition order by kafka_partition');
    expect(stored.rows.map((r) => r.topic)).toEqual(stored.rows.map(() => h.tidings.topics.inbox));
    expect(stored.rows.map(({ partition, next }) => ({ partition, next }))).toEqual(applied.rows);
  });

  it('a garbage record lands in notification.events.dlq with its reason, and the next good record still flows', async () => {
    const user = `user-${randomUUID()}`;
    const kafka = new Kafka({ clientId: 'test-dlq', brokers: h.endpoints.kafkaBrokers, logLevel: 0 });
    const dlqConsumer = kafka.consumer({ groupId: `${h.id}-dlq-reader` });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: h.tidings.topics.eventsDlq, fromBeginning: true });
    const dead: { key: string | undefined; value: string | undefined; headers: Record<string, string> }[] = [];
    await dlqConsumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        dead.push({ key: message.key?.toString(), value: message.value?.toString(), headers });
      },
    });

    const garbageKey = `garbage-${user}`;
    await producer.send({ topic: h.tidings.topics.events, messages: [{ key: garbageKey, value: Buffer.from('this is not avro') }] });
    const invalid = event(user, { type: 'Not A Valid Type', source_id: 'bad' });
    await produce(invalid);
    const good = event(user);
    await produce(good);

    await waitFor(async () => ((await rowsOf(user)).length === 1 ? true : undefined), 'the good record in Postgres');
    // Found by key: the two went to different partitions, so the dead letters' order is not theirs.
    const letterOf = (key: string) => dead.filter((d) => d.key === key);
    const [garbage, rejected] = await waitFor(() => {
      const found = [letterOf(garbageKey), letterOf(eventKey(invalid))];
      return found.every((letters) => letters.length > 0) ? found : undefined;
    }, 'both dead letters');
    await dlqConsumer.disconnect();

    expect(garbage).toHaveLength(1);
    expect(garbage![0]).toMatchObject({ key: garbageKey, value: 'this is not avro' });
    expect(garbage![0]?.headers).toMatchObject({
      'x-tidings-error-code': 'TIDINGS_UNDECODABLE',
      'x-tidings-original-topic': h.tidings.topics.events,
      'x-tidings-processor': 'dedupe',
    });
    expect(garbage![0]?.headers['x-tidings-error-reason']).toMatch(/wire format/);
    expect(rejected).toHaveLength(1);
    expect(rejected![0]?.headers['x-tidings-error-code']).toBe('TIDINGS_INVALID');
    expect(rejected![0]?.headers['x-tidings-original-topic']).toBe(h.tidings.topics.events);
    expect(rejected![0]?.headers['x-tidings-error-reason']).toMatch(/^invalid: type:/);
    const rows = await rowsOf(user);
    expect(rows.map((r) => r.id)).toEqual([stableId(sourceKey(good, user))]);
  });
});
