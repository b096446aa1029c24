/**
 * Transactions on the real broker with coordinators kept (kafkajs patch, see
 * test/unit/kafkajs-coordinators.test.ts for a coordinator that moves): a
 * transactional producer sends FindCoordinator once per coordinator, not four
 * times per transaction, and its transactions still commit records and input
 * offsets together.
 */
import { describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsAndWait } from '../../src/kafka/client.ts';
import { readTopic } from './harness.ts';

describe('transaction coordinators', () => {
  it('are looked up once for many transactions, which commit records and offsets', async () => {
    const brokers = inject('endpoints').kafkaBrokers;
    const kafka = new Kafka({ clientId: 'test-coordinators', brokers, logLevel: logLevel.NOTHING });
    const topic = `coordinators${randomBytes(4).toString('hex')}`;
    const group = `${topic}-group`;
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);

    const producer = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1, retry: { initialRetryTime: 2, retries: 15 } });
    const requests = new Map<string, number>();
    producer.on(producer.events.REQUEST, ({ payload }) => { requests.set(payload.apiName, (requests.get(payload.apiName) ?? 0) + 1); });
    await producer.connect();
    const transactions = 20;
    try {
      for (let i = 0; i < transactions; i++) {
        const tx = await producer.transaction();
        await tx.send({ topic, messages: [{ key: 'k', value: `record-${i}` }] });
        await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
        await tx.commit();
      }
    } finally {
      await producer.disconnect();
    }

    expect(requests.get('EndTxn')).toBe(transactions);
    // InitProducerId's lookup, then one for the transaction coordinator and one for the group's (85 in all before the patch).
    expect(requests.get('GroupCoordinator')).toBe(3);
    const seen = await readTopic(brokers, topic, async (v) => v.toString());
    expect(seen.map((r) => r.value)).toEqual(Array.from({ length: transactions }, (_, i) => `record-${i}`));
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(offsets?.partitions).toEqual([{ partition: 0, offset: String(transactions), metadata: null }]);
    await admin.disconnect();
  });
});
