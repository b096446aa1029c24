/**
 * Plain (non-transactional) producing: HTTP ingest, the CLI's test events, and
 * dead letters of sinks that cannot write them inside a Kafka transaction.
 * Idempotent, acks from all in-sync replicas.
 */
import type { Producer } from 'kafkajs';
import { clusterLimits, createProducer, type Kafka } from './client.ts';
import type { Codec } from './codec.ts';
import type { SchemaTopic, TopicName, TopicValue } from './topics.ts';
import type { DeadLetter } from '../processor.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { planRequests } from './produce-plan.ts';
import { mayBeCausedByInput, RecordTooLargeError } from '../errors.ts';

export interface Publisher {
  /** Validates, encodes and writes one record; resolves once the broker has it. */
  publish<K extends SchemaTopic>(topic: TopicName<K>, key: string, value: TopicValue<K>, headers?: Record<string, string>): Promise<{ partition: number; offset: string }>;
  /** Writes raw bytes, as they came (tests and redrive). */
  publishRaw(topic: string, key: string | null, value: Buffer | null, headers?: Record<string, string>): Promise<void>;
  deadLetter(topic: string, letters: DeadLetter[], processor: string): Promise<void>;
  disconnect(): Promise<void>;
}

export async function createPublisher(kafka: Kafka, codec: Codec): Promise<Publisher> {
  const producer: Producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  return {
    async publish(topic, key, value, headers) {
      const encoded = await codec.encode(topic, value);
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value: encoded, headers }] }).catch((err: unknown) => {
        if (mayBeCausedByInput(err)) throw new RecordTooLargeError(`the ${topic} record of ${encoded.length} bytes was refused: ${(err as Error).message}`);
        throw err;
      });
      return { partition: meta?.partition ?? -1, offset: meta?.baseOffset ?? '-1' };
    },
    async publishRaw(topic, key, value, headers) {
      await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
    },
    async deadLetter(topic, letters, processor) {
      if (letters.length === 0) return;
      const now = Date.now();
      const limits = await clusterLimits(kafka).topic(topic);
      const records = letters.map((l) => deadLetterRecord(l, topic, limits, processor, now));
      // Many letters of one partition may be more than one request may carry.
      for (const request of planRequests(records, () => limits.maxMessageBytes, await clusterLimits(kafka).request())) {
        await producer.send({ topic, acks: -1, messages: request.map((r) => ({ key: r.key, value: r.value, partition: r.partition, headers: r.headers })) });
      }
    },
    disconnect: () => producer.disconnect(),
  };
}
