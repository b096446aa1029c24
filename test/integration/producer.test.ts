/** The producer client on a real Tidings: both transports reach the inbox, a repeat is dropped, records land where Java's partitioner puts them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { callApi, readTopic, startHarness, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { createCodec } from '../../src/kafka/codec.ts';
import { stableId } from '../../src/model/ids.ts';
import { createHttpTransport, createKafkaTransport, createProducerClient, type EventInput, type ProducerClient } from '../../src/producer/index.ts';
import { ValidationError } from '../../src/errors.ts';

/** Kafka's Java client, Utils.murmur2 (seed 0x9747b28c) as a signed 32-bit int: an oracle independent of kafkajs. */
function javaMurmur2(text: string): number {
  const data = Buffer.from(text, 'utf8');
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ data.length) | 0;
  const whole = data.length - (data.length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = data.length % 4;
  if (rest >= 3) h ^= (data[whole + 2] as number) << 16;
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[whole] as number), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** DefaultPartitioner of the Java client for a keyed record: toPositive(murmur2(key)) % partitions. */
const javaPartition = (key: string, partitions: number) => (javaMurmur2(key) & 0x7fffffff) % partitions;

describe('producer client', () => {
  let h: Harness;
  let overKafka: ProducerClient;
  let overHttp: ProducerClient;

  beforeAll(async () => {
    h = await startHarness();
    overKafka = createProducerClient({ transport: await createKafkaTransport({ brokers: h.endpoints.kafkaBrokers, schemaRegistryUrl: h.endpoints.schemaRegistryUrl, topicPrefix: h.config.topicPrefix }) });
    overHttp = createProducerClient({ transport: createHttpTransport({ url: h.tidings.url, token: await h.auth.sign({ userId: 'billing-service', roles: ['producer'] }) }) });
  });
  afterAll(async () => {
    await overKafka?.close();
    await overHttp?.close();
    await h?.stop();
  });

  const event = (user: string): EventInput => ({
    user_id: user, type: 'job_completed', title: 'Job done', message: 'All 3 tasks finished', severity: 'success', source_type: 'job', source_id: randomUUID(), data: { job_id: 42 },
  });
  const inbox = async (user: string) => {
    const answer = await callApi(h, 'GET', '/v1/notifications?limit=100', await h.auth.sign({ userId: user, roles: [] }));
    return answer.body.notifications as { id: string; type: string; severity: string; data: Record<string, unknown> }[];
  };

  for (const transport of ['kafka', 'http'] as const) {
    it(`over ${transport}: the notification reaches the inbox under the source key's id, and a repeat is dropped`, async () => {
      const client = transport === 'kafka' ? overKafka : overHttp;
      const user = `user-${randomUUID()}`;
      const input = event(user);
      const first = await client.send(input);
      expect(first.key).toBe(`job:${input.source_id}:job_completed:${user}`);
      expect(first.notificationIds).toEqual({ [user]: stableId(first.key) });
      const [arrived] = await waitFor(async () => {
        const found = await inbox(user);
        return found.length > 0 ? found : undefined;
      }, 'the notification in the inbox');
      expect(arrived).toMatchObject({ id: stableId(first.key), type: 'job_completed', severity: 'success', data: { job_id: 42 } });

      const again = await client.send(input);
      expect(again.key).toBe(first.key);
      expect(again.offset).not.toBe(first.offset);
      await waitUntilProcessed(h);
      expect((await inbox(user)).map((n) => n.id)).toEqual([stableId(first.key)]);
    });
  }

  it('over kafka: a batch lands keyed by the event key, each record on the partition Java\'s and kafkajs\' partitioner pick', async () => {
    // Kafka's own test vectors (UtilsTest.testMurmur2) check the oracle first.
    expect([javaMurmur2('21'), javaMurmur2('foobar'), javaMurmur2('a-little-bit-long-string'), javaMurmur2('abc')]).toEqual([-973932308, -790332482, -985981536, 479470107]);
    const inputs = Array.from({ length: 40 }, (_, i) => event(`batch-${i}-${randomUUID()}`));
    // The timing fields of the schema travel as given (their behaviour is dedupe's and the scheduler's).
    const expiresAt = Date.now() + 3_600_000; // ms
    inputs[0] = { ...inputs[0]!, expires_at: new Date(expiresAt), timer_key: `timer-${randomUUID()}`, cancels: [`other-${randomUUID()}`] };
    const sent = await overKafka.sendBatch(inputs);
    expect(sent).toHaveLength(40);
    expect(new Set(sent.map((s) => s.partition))).toEqual(new Set([0, 1]));
    for (const s of sent) expect(s.partition).toBe(javaPartition(s.key, h.config.partitions));

    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const records = await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.events, (value) => codec.decode('NotificationEvent', value));
    for (const s of sent) {
      const record = records.find((r) => r.partition === s.partition && r.offset === s.offset);
      expect(record?.key).toBe(s.key);
      expect(record?.value).toMatchObject({ user_id: s.key.split(':').at(-1), type: 'job_completed', data: '{"job_id":42}' });
    }
    const first = records.find((r) => r.key === sent[0]!.key)?.value;
    expect(first).toMatchObject({ expires_at: expiresAt, timer_key: inputs[0]!.timer_key, cancels: inputs[0]!.cancels, deliver_at: null, delay_ms: null });
    await waitFor(async () => ((await inbox(inputs[39]!.user_id!)).length === 1 ? true : undefined), 'the last of the batch in its inbox');
  });

  it('refuses an invalid event with every reason before sending, over either transport', async () => {
    for (const client of [overKafka, overHttp]) {
      await expect(client.send({ ...event('u1'), title: '', source_id: '' })).rejects.toThrow(new ValidationError(['source_id: must not be empty', 'title: must not be empty']));
    }
  });
});
