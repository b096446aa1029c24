/**
 * Fetch sizes per partition (kafkajs patch: maxBytesPerPartition may be a
 * function of topic and partition, which the runner sizes with fetchSizer):
 * on the real broker, a partition fetched with a small limit returns about
 * that many bytes, another partition of the same fetch its own limit's worth.
 */
import { describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsAndWait } from '../../src/kafka/client.ts';

describe('fetch sizes per partition', () => {
  it('are what the function gives each partition', async () => {
    const brokers = inject('endpoints').kafkaBrokers;
    const kafka = new Kafka({ clientId: 'test-fetch-sizes', brokers, logLevel: logLevel.NOTHING });
    const topic = `fetchsizes${randomBytes(4).toString('hex')}`;
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    const producer = kafka.producer();
    await producer.connect();
    // Record batches of 10 records of 1 KB: a limit cuts between them.
    const value = Buffer.alloc(1_000, 'x');
    for (let i = 0; i < 50; i++) {
      await producer.send({ topic, messages: Array.from({ length: 20 }, (_, j) => ({ partition: j % 2, value })) });
    }
    await producer.disconnect();

    const asked: string[] = [];
    const limit = (t: string, partition: number) => {
      asked.push(`${t}:${partition}`);
      return partition === 0 ? 16 * 1024 : 1024 * 1024;
    };
    const consumer = kafka.consumer({ groupId: `${topic}-group`, maxBytesPerPartition: limit as unknown as number, maxWaitTimeInMs: 100 });
    const firstBatch = new Map<number, number>();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const bothSeen = new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (!firstBatch.has(batch.partition)) firstBatch.set(batch.partition, batch.messages.length);
          if (firstBatch.size === 2) resolve();
        },
      });
    });
    await bothSeen;
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();

    expect(asked).toContain(`${topic}:0`);
    expect(asked).toContain(`${topic}:1`);
    // 16 KiB holds at most 16 records of ~1 KB: a partial batch at the end is dropped.
    expect(firstBatch.get(0)).toBeGreaterThan(0);
    expect(firstBatch.get(0)).toBeLessThanOrEqual(16);
    expect(firstBatch.get(1)).toBe(500);
  });
});
