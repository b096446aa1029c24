/**
 * read_committed on the real broker: records of aborted transactions stay
 * invisible however their transactions interleave. Two producers write into
 * one partition; the transaction that started first is aborted last. The
 * broker lists aborted transactions in the order they ended, and a reader that
 * expects them in the order they started lets the first one's records through
 * (kafkajs 2.2.4 did; patches/kafkajs+2.2.4.patch fixes it).
 */
import { describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsAndWait } from '../../src/kafka/client.ts';
import { readTopic } from './harness.ts';

describe('aborted transactions', () => {
  it('stay invisible to read_committed readers when the one that began first ends last', async () => {
    const brokers = inject('endpoints').kafkaBrokers;
    const kafka = new Kafka({ clientId: 'test-aborts', brokers, logLevel: logLevel.NOTHING });
    const topic = `aborts${randomBytes(4).toString('hex')}`;
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    await admin.disconnect();

    const producer = (id: string) => kafka.producer({ transactionalId: `${topic}-${id}`, idempotent: true, maxInFlightRequests: 1 });
    const first = producer('first');
    const second = producer('second');
    const plain = producer('plain');
    await Promise.all([first.connect(), second.connect(), plain.connect()]);
    try {
      const a = await first.transaction();
      await a.send({ topic, messages: [{ key: 'k', value: 'first-aborted-1' }, { key: 'k', value: 'first-aborted-2' }] });
      const b = await second.transaction();
      await b.send({ topic, messages: [{ key: 'k', value: 'second-aborted' }] });
      await a.send({ topic, messages: [{ key: 'k', value: 'first-aborted-3' }] });
      await b.abort();
      await a.abort();
      const c = await plain.transaction();
      await c.send({ topic, messages: [{ key: 'k', value: 'committed' }] });
      await c.commit();
    } finally {
      await Promise.all([first.disconnect(), second.disconnect(), plain.disconnect()]);
    }

    const seen = await readTopic(brokers, topic, async (v) => v.toString());
    expect(seen.map((r) => r.value)).toEqual(['committed']);
  });
});
