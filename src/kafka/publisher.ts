/**
 * Plain (non-transactional) producing: HTTP ingest, the CLI's test events, and
 * dead letters of sinks that cannot write them inside a Kafka transaction.
 * Idempotent, acks from all in-sync replicas.
 */
import type { Producer } from 'kafkajs';
import { createProducer, type Kafka } from './client.ts';
import type { Codec } from './codec.ts';
import { deadLetterHeaders, type DeadLetter } from './runner.ts';

export interface Publisher {
  /** Validates, encodes and writes one record; resolves once the broker has it. */
  publish(topic: string, key: string, value: unknown, headers?: Record<string, string>): Promise<{ partition: number; offset: string }>;
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
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value: encoded, headers }] });
      return { partition: meta?.partition ?? -1, offset: meta?.baseOffset ?? '-1' };
    },
    async publishRaw(topic, key, value, headers) {
      await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
    },
    async deadLetter(topic, letters, processor) {
      const now = Date.now();
      await producer.send({
        topic,
        acks: -1,
        messages: letters.map((l) => ({ key: l.message.key, value: l.message.value, headers: deadLetterHeaders(l, processor, now) })),
      });
    },
    disconnect: () => producer.disconnect(),
  };
}
