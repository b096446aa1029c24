/**
 * No input stops the pipeline. Regressions: a burst of 2 KB events for one
 * user made dedupe's transaction write more to one partition of
 * notification.accepted than the topic accepts (MESSAGE_TOO_LARGE), the
 * process exited, and every restart died the same way; a value Postgres
 * refuses (a NUL character) stopped the projector for good.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startTidings, type Tidings } from '../../src/tidings.ts';
import { createKafka, createTopicsAndWait, withAdmin } from '../../src/kafka/client.ts';
import { TOPICS, topicConfig, topicNames } from '../../src/kafka/topics.ts';
import { createCodec, type Codec } from '../../src/kafka/codec.ts';
import { eventKey, sourceKey, type Notification, type NotificationEvent } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import { isolatedSettings, readTopic, waitFor } from './harness.ts';

/** bytes: far below Kafka's default 1 MB, so that a burst of a few hundred events crosses it */
const SMALL_MAX_MESSAGE = 32 * 1024;

describe('no input stops the pipeline', () => {
  let settings: Awaited<ReturnType<typeof isolatedSettings>>;
  let tidings: Tidings;
  let codec: Codec;
  let producer: Producer;
  let db: pg.Pool;
  const fatal: Error[] = [];

  beforeAll(async () => {
    settings = await isolatedSettings();
    const config = loadConfig(settings.env);
    const topics = topicNames(config.topicPrefix);
    // The topic exists before Tidings starts, with a max.message.bytes Tidings must read rather than assume.
    const kafka = createKafka({ brokers: settings.endpoints.kafkaBrokers, clientId: 'test-setup', log: createLogger('silent') });
    await withAdmin(kafka, (admin) => createTopicsAndWait(admin, [{
      topic: topics.accepted, numPartitions: config.partitions, replicationFactor: 1,
      configEntries: [...topicConfig(TOPICS.accepted), { name: 'max.message.bytes', value: String(SMALL_MAX_MESSAGE) }],
    }]));
    tidings = await startTidings({ config, endpoints: settings.endpoints, log: createLogger('error'), onFatal: (err) => fatal.push(err) });
    codec = createCodec(settings.endpoints.schemaRegistryUrl);
    await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }, { topic: topics.accepted, schema: 'Notification' }]);
    producer = new Kafka({ clientId: 'test-burst', brokers: settings.endpoints.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    db = new pg.Pool({ connectionString: settings.endpoints.databaseUrl });
  });
  afterAll(async () => {
    await producer?.disconnect();
    await db?.end();
    await tidings?.stop();
  });

  const event = (userId: string, sourceId: string, extra: Partial<NotificationEvent> = {}): NotificationEvent => ({
    event_id: null, user_id: userId, audience: null, type: 'job_completed', title: 'Job done', message: 'x'.repeat(1_900), severity: 'info',
    data: null, action_url: null, source_type: 'job', source_id: sourceId, occurred_at: Date.now(), ...extra,
  });
  const publish = async (events: NotificationEvent[]) => {
    const messages = await Promise.all(events.map(async (e) => ({ key: eventKey(e), value: await codec.encode(tidings.topics.events, e) })));
    for (let i = 0; i < messages.length; i += 200) await producer.send({ topic: tidings.topics.events, messages: messages.slice(i, i + 200) });
  };
  const rowCount = async (userId: string) => Number((await db.query('select count(*) from notifications where user_id = $1', [userId])).rows[0].count);

  it('a burst of 2 KB events for one user, many times the accepted topic\'s max.message.bytes, is accepted whole and once, and nothing stops', async () => {
    const user = `burst-${randomUUID()}`;
    const events = Array.from({ length: 800 }, (_, i) => event(user, `${user}:${i}`));
    await publish(events);
    await waitFor(async () => ((await rowCount(user)) >= 800 || fatal.length > 0 ? true : undefined), 'the burst to reach Postgres', 90_000);
    expect(fatal).toEqual([]);
    expect(await rowCount(user)).toBe(800);
    const accepted = (await readTopic(settings.endpoints.kafkaBrokers, tidings.topics.accepted, async (v) => (await codec.decode('Notification', v)) as Notification))
      .map((r) => r.value as Notification).filter((n) => n.user_id === user);
    expect(accepted).toHaveLength(800);
    expect(new Set(accepted.map((n) => n.id)).size).toBe(800);
  });

  it('an event whose notification can never fit the accepted topic is dead-lettered with the reason, and the events after it go on', async () => {
    const user = `large-${randomUUID()}`;
    const huge = event(user, `${user}:huge`, { data: JSON.stringify({ blob: 'y'.repeat(40_000) }) });
    const after = event(user, `${user}:after`);
    await publish([huge, after]);
    await waitFor(async () => ((await rowCount(user)) >= 1 || fatal.length > 0 ? true : undefined), 'the event after the large one');
    expect(fatal).toEqual([]);
    const ids = (await db.query('select id from notifications where user_id = $1', [user])).rows.map((r: { id: string }) => r.id);
    expect(ids).toEqual([stableId(sourceKey(after, user))]);
    const letters = await readTopic(settings.endpoints.kafkaBrokers, tidings.topics.eventsDlq, async (v) => v);
    const mine = letters.filter((l) => l.key === eventKey(huge));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.headers['x-tidings-error-code']).toBe('TIDINGS_RECORD_TOO_LARGE');
    expect(mine[0]?.headers['x-tidings-error-reason']).toMatch(new RegExp(`over the topic's max.message.bytes of ${SMALL_MAX_MESSAGE}`));
    expect(mine[0]?.headers['x-tidings-processor']).toBe('dedupe');
  });

  it('a notification Postgres refuses (a NUL character) is dead-lettered by the projector with the database\'s reason, and the records around it are stored', async () => {
    const user = `nul-${randomUUID()}`;
    const notification = (i: number, message: string): Notification => {
      const key = sourceKey({ source_type: 'job', source_id: `${user}:${i}`, type: 'job_completed' }, user);
      return {
        id: stableId(key), user_id: user, type: 'job_completed', category: 'job', severity: 'info', title: `Job ${i}`, message, data: '{}', action_url: null,
        source_type: 'job', source_id: `${user}:${i}`, source_key: key, event_id: null, occurred_at: Date.now(), created_at: Date.now(),
      };
    };
    // A producer that is not Tidings writes to the event store directly.
    const records = [notification(0, 'fine'), notification(1, 'bad \u0000 byte'), notification(2, 'fine too')];
    await producer.send({ topic: tidings.topics.accepted, messages: await Promise.all(records.map(async (n) => ({ key: user, value: await codec.encode(tidings.topics.accepted, n) }))) });
    await waitFor(async () => ((await rowCount(user)) >= 2 || fatal.length > 0 ? true : undefined), 'the good records around the bad one');
    expect(fatal).toEqual([]);
    const stored = (await db.query('select title from notifications where user_id = $1 order by title', [user])).rows.map((r: { title: string }) => r.title);
    expect(stored).toEqual(['Job 0', 'Job 2']);
    const letters = await waitFor(async () => {
      const found = (await readTopic(settings.endpoints.kafkaBrokers, tidings.topics.acceptedDlq, async (v) => v)).filter((l) => l.key === user);
      return found.length > 0 ? found : undefined;
    }, 'the dead letter of the projector');
    expect(letters).toHaveLength(1);
    expect(letters[0]?.headers['x-tidings-error-code']).toMatch(/^SQLSTATE_22/);
    expect(letters[0]?.headers['x-tidings-processor']).toBe('projector');
  });
});
