/**
 * Exactly-once inside Kafka: a batch's outputs, its dead letters and its input
 * offsets are committed in one transaction.
 *
 * Transactional ids are per input partition (`<prefix>.<topic>.<partition>`),
 * not per process. Whoever owns partition p uses the same id for it, so when a
 * rebalance moves p to another instance, that instance's initTransactions
 * bumps the producer epoch and fences the previous owner: a zombie that still
 * believes it owns p can no longer commit. (kafkajs does not implement
 * KIP-447's consumer-group fencing, which would allow one id per process.)
 */
import type { Producer, Message } from 'kafkajs';
import { createProducer, type Kafka } from './client.ts';
import type { Codec } from './codec.ts';
import { deadLetterHeaders, type Sink, type SinkBatch } from './runner.ts';

/** One record a processor wants written. */
export interface OutRecord {
  topic: string;
  key: string;
  /** encoded with the topic's schema; null writes a tombstone */
  value: unknown;
  /** a changelog record goes to the partition of the input it belongs to */
  partition?: number;
  headers?: Record<string, string>;
}

export interface TransactionalSinkOptions<O> {
  kafka: Kafka;
  codec: Codec;
  processor: string;
  groupId: string;
  /** prefix of the transactional ids, unique per processor and deployment */
  transactionalIdPrefix: string;
  deadLetterTopic: string;
  /** the records an output becomes; `partition` is the input partition of the batch */
  toRecords(output: O, partition: number): OutRecord[];
  clock?: () => number;
}

export function createTransactionalSink<O>(options: TransactionalSinkOptions<O>): Sink<O> {
  const producers = new Map<string, Promise<Producer>>();
  const clock = options.clock ?? Date.now;

  const producerFor = (topic: string, partition: number): Promise<Producer> => {
    const transactionalId = `${options.transactionalIdPrefix}.${topic}.${partition}`;
    let producer = producers.get(transactionalId);
    if (!producer) {
      const created = createProducer(options.kafka, {
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 60_000, // ms
      });
      producer = created.connect().then(() => created);
      producer.catch(() => producers.delete(transactionalId));
      producers.set(transactionalId, producer);
    }
    return producer;
  };

  return {
    offsets: 'sink',

    // Initialising the partition's transactional producer fences its previous
    // owner and aborts whatever transaction that owner left open, before any
    // state of the partition is restored from a changelog.
    async prepare(topic, partition) {
      await producerFor(topic, partition);
    },

    async apply(batch: SinkBatch<O>) {
      // Encode before the transaction opens: a bad output is a bug, not a reason to abort half-way.
      const byTopic = new Map<string, Message[]>();
      const add = (topic: string, message: Message) => {
        const list = byTopic.get(topic) ?? [];
        list.push(message);
        byTopic.set(topic, list);
      };
      for (const item of batch.items) {
        for (const output of item.outputs) {
          for (const record of options.toRecords(output, batch.partition)) {
            const value = record.value === null ? null : await options.codec.encode(record.topic, record.value);
            add(record.topic, { key: record.key, value, partition: record.partition, headers: record.headers });
          }
        }
      }
      for (const letter of batch.deadLetters) {
        add(options.deadLetterTopic, { key: letter.message.key, value: letter.message.value, headers: deadLetterHeaders(letter, options.processor, clock()) });
      }

      const producer = await producerFor(batch.topic, batch.partition);
      const transaction = await producer.transaction();
      try {
        if (byTopic.size > 0) {
          await transaction.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        }
        await transaction.sendOffsets({
          consumerGroupId: options.groupId,
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: batch.nextOffset }] }],
        });
        await transaction.commit();
      } catch (err) {
        await transaction.abort().catch(() => undefined);
        // A fenced or broken producer cannot be reused; the retry starts a fresh one.
        const transactionalId = `${options.transactionalIdPrefix}.${batch.topic}.${batch.partition}`;
        producers.delete(transactionalId);
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
    },

    async close() {
      const all = [...producers.values()];
      producers.clear();
      await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.disconnect()));
    },
  };
}
